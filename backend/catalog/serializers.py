import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Notebook, NotebookVersion
from catalog.selectors import notebook_usage_get


class ParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(allow_null=True, help_text="str, int, float, bool, list, dict, or null when unknown.")
    default = serializers.JSONField(allow_null=True)
    help = serializers.CharField(allow_blank=True)
    required = serializers.BooleanField(help_text="The default is None: a workflow must supply a value.")
    default_source = serializers.CharField(help_text="The default as written in the notebook.")


class DiscoveredOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(allow_null=True, help_text="str, int, float, bool, list, dict, or null when unknown.")


class NotebookVersionSerializer(serializers.ModelSerializer):
    parameters = ParameterSerializer(many=True)
    outputs = DiscoveredOutputSerializer(many=True, help_text="Discovered: names given to sb.glue, and variables of the cell tagged 'outputs'.")

    class Meta:
        model = NotebookVersion
        fields = ["number", "sha256", "kernel_name", "language", "parameters", "outputs", "created_at"]


class NotebookSerializer(serializers.ModelSerializer):
    """A catalog entry with the signature of its latest version."""

    version = serializers.SerializerMethodField()
    sha256 = serializers.SerializerMethodField()
    kernel_name = serializers.SerializerMethodField()
    parameters = serializers.SerializerMethodField()
    outputs = serializers.SerializerMethodField()

    class Meta:
        model = Notebook
        fields = ["id", "name", "version", "sha256", "kernel_name", "parameters", "outputs", "created_at", "updated_at"]

    def _latest(self, notebook) -> NotebookVersion:
        return self.context["latest"][notebook.pk]

    def get_version(self, notebook) -> int:
        return self._latest(notebook).number

    def get_sha256(self, notebook) -> str:
        return self._latest(notebook).sha256

    def get_kernel_name(self, notebook) -> str:
        return self._latest(notebook).kernel_name

    def get_parameters(self, notebook) -> list[dict]:
        return ParameterSerializer(self._latest(notebook).parameters, many=True).data

    @extend_schema_field(DiscoveredOutputSerializer(many=True))
    def get_outputs(self, notebook) -> list[dict]:
        """Discovered outputs: names given to sb.glue, and variables of the cell tagged 'outputs'."""
        return DiscoveredOutputSerializer(self._latest(notebook).outputs, many=True).data


class UsingVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The workflow version.")
    notebook_version = serializers.IntegerField(help_text="The notebook version it pinned.")


class NotebookUsageSerializer(serializers.Serializer):
    workflow = serializers.CharField()
    workflow_id = serializers.IntegerField()
    latest = serializers.BooleanField(help_text="Whether the workflow's latest version runs it.")
    versions = UsingVersionSerializer(many=True, help_text="Its versions that run the notebook, newest first.")


class NotebookDetailSerializer(NotebookSerializer):
    content = serializers.SerializerMethodField(help_text="The notebook (nbformat 4 JSON) of the requested version.")
    versions = serializers.SerializerMethodField()
    used_by = serializers.SerializerMethodField(help_text="Workflows whose latest version runs this notebook (a delete is refused while any does).")
    used_in = serializers.SerializerMethodField(help_text="Every workflow that runs it in some version, with those versions.")

    class Meta(NotebookSerializer.Meta):
        fields = [*NotebookSerializer.Meta.fields, "content", "versions", "used_by", "used_in"]

    def _usage(self, notebook) -> list[dict]:
        if getattr(self, "_usage_of", (None,))[0] != notebook.pk:
            self._usage_of = (notebook.pk, notebook_usage_get(notebook=notebook))
        return self._usage_of[1]

    def get_used_by(self, notebook) -> list[str]:
        return [u["workflow"] for u in self._usage(notebook) if u["latest"]]

    @extend_schema_field(NotebookUsageSerializer(many=True))
    def get_used_in(self, notebook) -> list[dict]:
        return NotebookUsageSerializer(self._usage(notebook), many=True).data

    def get_content(self, notebook) -> dict:
        return json.loads(self._latest(notebook).content)

    def get_versions(self, notebook) -> list[dict]:
        return NotebookVersionSerializer(notebook.versions.order_by("-number"), many=True).data


class NotebookUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A Jupyter notebook (.ipynb, nbformat 4).")
    name = serializers.CharField(required=False, help_text="Catalog name; defaults to the file's name.")


class DiffLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["same", "added", "removed"])
    text = serializers.CharField(allow_blank=True)


class DiffCellSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["unchanged", "added", "removed", "modified"])
    cell_type = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField(), help_text="What of a modified cell differs: source, metadata, outputs, ...")
    lines = DiffLineSerializer(many=True, help_text="The cell's source, line by line.")


class NotebookDiffSerializer(serializers.Serializer):
    """Two versions of a notebook compared by nbdime, cell by cell."""

    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    cells = DiffCellSerializer(many=True)
