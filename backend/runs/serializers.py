from rest_framework import serializers

from runs.engines import ENGINE_NAMES
from runs.models import NodeRun, Run
from workflows.serializers import no_nul


class RunStartSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(choices=ENGINE_NAMES, default="local")
    parameters = serializers.DictField(child=serializers.JSONField(), required=False, default=dict, validators=[no_nul],
                                       help_text="Values for the workflow's global parameters, for this run only.")
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version to run; the latest by default.")


class NodeErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    cell_index = serializers.IntegerField(allow_null=True)
    cell_source = serializers.CharField(allow_blank=True)
    traceback = serializers.CharField(allow_blank=True)


class NodeRunSerializer(serializers.ModelSerializer):
    error = NodeErrorSerializer(allow_null=True)
    outputs = serializers.DictField(child=serializers.JSONField())

    class Meta:
        model = NodeRun
        fields = ["node", "map_index", "status", "attempts", "started_at", "ended_at", "outputs", "error", "warnings"]


class RunSerializer(serializers.ModelSerializer):
    workflow = serializers.IntegerField(source="workflow_id")
    version = serializers.IntegerField(source="version.number")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    class Meta:
        model = Run
        fields = ["id", "workflow", "version", "engine", "status", "created_at", "started_at", "ended_at", "created_by",
                  "external_id"]
        extra_kwargs = {"external_id": {"help_text": "Airflow engine: the DAG run's id in Airflow."}}


class RunDetailSerializer(RunSerializer):
    parameters = serializers.DictField(child=serializers.JSONField())
    error = serializers.CharField(allow_blank=True)
    nodes = NodeRunSerializer(many=True, help_text="Node runs in graph order; a fanned-out node's summary "
                                                   "(map_index null) comes before its items.")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "parameters", "error", "nodes"]
