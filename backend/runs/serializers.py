from typing import Any

from rest_framework import serializers

from runs.compare import duration_s, parameters_changed
from runs.engines import ENGINE_NAMES
from runs.models import NodeRun, Run, Status
from catalog.serializers import DiffCellSerializer
from workflows.serializers import no_nul, value_size


class RunStartSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(choices=ENGINE_NAMES, default="local")
    parameters = serializers.DictField(child=serializers.JSONField(validators=[value_size]), required=False, default=dict,
                                       validators=[no_nul], help_text=("Values for the workflow's global parameters, "
                                                                       "for this run only; each at most LOOM_VALUE_MAX_BYTES."))
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version to run; the latest by default.")


class NodeErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    cell_index = serializers.IntegerField(allow_null=True)
    cell_source = serializers.CharField(allow_blank=True)
    traceback = serializers.CharField(allow_blank=True)


class NodeRunSerializer(serializers.ModelSerializer):
    error = NodeErrorSerializer(allow_null=True)
    outputs = serializers.DictField(child=serializers.JSONField())
    items = serializers.DictField(
        source="items_counted", child=serializers.IntegerField(), allow_null=True, read_only=True,
        help_text="A fanned-out node's items by status ({status: count}); null for a node without items. "
                  "The items themselves: GET .../runs/{id}/nodes/{node}/items/.")

    class Meta:
        model = NodeRun
        fields = ["node", "map_index", "status", "attempts", "started_at", "ended_at", "outputs", "error", "warnings",
                  "items"]


class NodeItemSerializer(NodeRunSerializer):
    """One item of a fanned-out node."""

    items = None
    item = serializers.SerializerMethodField(help_text="The item's value: what the node's map_parameter received.")
    duration_s = serializers.SerializerMethodField(help_text="Seconds from start to end; null until it ends.")

    class Meta(NodeRunSerializer.Meta):
        fields = ["map_index", "item", "status", "attempts", "started_at", "ended_at", "duration_s", "outputs", "error",
                  "warnings"]

    def get_item(self, row) -> Any:
        return row.parameters.get(self.context["parameter"])

    def get_duration_s(self, row) -> float | None:
        return (row.ended_at - row.started_at).total_seconds() if row.started_at and row.ended_at else None


class RunSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id")
    version = serializers.IntegerField(source="version.number")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None,
                                       help_text="Who started it (null: a schedule, or Airflow itself).")
    duration_s = serializers.SerializerMethodField(help_text="Seconds from start to end; null until it ends.")
    parameters_changed = serializers.SerializerMethodField(
        help_text="The run's parameters whose values differ from the workflow's defaults.")

    class Meta:
        model = Run
        fields = ["id", "workflow", "version", "engine", "status", "trigger", "created_at", "started_at", "ended_at",
                  "duration_s", "created_by", "parameters_changed", "external_id"]
        extra_kwargs = {"external_id": {"help_text": "Airflow engine: the DAG run's id in Airflow."},
                        "trigger": {"help_text": "What started it: manual (the editor), api (a token), schedule, "
                                                 "backfill, or airflow (started in Airflow)."}}

    def get_duration_s(self, run) -> float | None:
        return duration_s(run)

    def get_parameters_changed(self, run) -> dict[str, Any]:
        # A listing reads only the graph's parameters (runs.selectors), a detail the whole version.
        return parameters_changed(run, getattr(run, "graph_parameters", None))


class RunListItemSerializer(RunSerializer):
    """A run in the tenant's runs page: with its workflow's name."""

    workflow_name = serializers.CharField(source="workflow.name")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "workflow_name"]


class RunDetailSerializer(RunSerializer):
    parameters = serializers.DictField(child=serializers.JSONField())
    error = serializers.CharField(allow_blank=True)
    nodes = NodeRunSerializer(many=True, help_text="Node runs in graph order, one per node: a fanned-out node's "
                                                   "own row counts its items (`items`), which the items endpoint lists.")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "parameters", "error", "nodes"]


class NodeLogSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, help_text="The log from `offset` on.")
    offset = serializers.IntegerField(help_text="Where the log ends now: the next request's offset.")
    status = serializers.ChoiceField(choices=Status.choices, help_text="The node run's status; the log grows while it is queued or running.")
    reset = serializers.BooleanField(help_text="The log is shorter than `offset` (the node was retried elsewhere): "
                                               "`text` is the whole log.")


class CompareSideSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.FloatField(allow_null=True)
    outputs = serializers.DictField(child=serializers.JSONField())
    version = serializers.IntegerField(allow_null=True, help_text="The workflow version the node ran on, when recorded.")
    items = serializers.DictField(child=serializers.IntegerField(), allow_null=True)


class CompareChangedSerializer(serializers.Serializer):
    status = serializers.BooleanField()
    outputs = serializers.ListField(child=serializers.CharField(), help_text="The outputs whose values differ.")
    notebook = serializers.BooleanField(help_text="The runs pinned different versions of its notebook.")
    presence = serializers.BooleanField(help_text="Only one of the runs has the node.")


class CompareNodeSerializer(serializers.Serializer):
    node = serializers.CharField()
    run = CompareSideSerializer(allow_null=True)
    other = CompareSideSerializer(allow_null=True)
    changed = CompareChangedSerializer()


class CompareParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    run = serializers.JSONField(allow_null=True)
    other = serializers.JSONField(allow_null=True)


class RunCompareSerializer(serializers.Serializer):
    """Two runs side by side: `run` (the URL's) and `other` (?with=)."""

    run = serializers.IntegerField()
    other = serializers.IntegerField()
    version = serializers.IntegerField()
    other_version = serializers.IntegerField()
    parameters = CompareParameterSerializer(many=True, help_text="The parameters whose values (override or default) differ.")
    nodes = CompareNodeSerializer(many=True)


class NodeNotebookDiffSerializer(serializers.Serializer):
    """The executed notebook of `other` (old side) against `run`'s (new side), compared by nbdime."""

    run = serializers.IntegerField()
    other = serializers.IntegerField()
    node = serializers.CharField()
    map_index = serializers.IntegerField(allow_null=True)
    cells = DiffCellSerializer(many=True)
