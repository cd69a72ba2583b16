from typing import Any

from rest_framework import serializers

from runs.engines import ENGINE_NAMES
from runs.models import NodeRun, Run
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
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    class Meta:
        model = Run
        fields = ["id", "workflow", "version", "engine", "status", "created_at", "started_at", "ended_at", "created_by",
                  "external_id"]
        extra_kwargs = {"external_id": {"help_text": "Airflow engine: the DAG run's id in Airflow."}}


class RunDetailSerializer(RunSerializer):
    parameters = serializers.DictField(child=serializers.JSONField())
    error = serializers.CharField(allow_blank=True)
    nodes = NodeRunSerializer(many=True, help_text="Node runs in graph order, one per node: a fanned-out node's "
                                                   "own row counts its items (`items`), which the items endpoint lists.")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "parameters", "error", "nodes"]


class HistogramBinSerializer(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    count = serializers.IntegerField()


class ItemsHistogramSerializer(serializers.Serializer):
    output = serializers.CharField()
    count = serializers.IntegerField(help_text="Items with a number for the output.")
    missing = serializers.IntegerField(help_text="Items without one (unfinished, failed, or not a number).")
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    bins = HistogramBinSerializer(many=True, help_text="Equal-width bins from min to max; the last includes max.")
