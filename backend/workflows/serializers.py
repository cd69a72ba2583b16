"""The shape of a workflow graph as the API accepts it. Meaning is checked by workflows.graph."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workflows.graph import NODE_DEFAULTS
from workflows.models import Workflow, WorkflowVersion

MAX_NODES = 2000


def no_nul(value):
    """Refuse NUL characters anywhere in a JSON value: PostgreSQL cannot store them."""
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError("Text must not contain NUL (\\u0000) characters.")
    if isinstance(value, dict):
        for k, v in value.items():
            no_nul(k)
            no_nul(v)
    elif isinstance(value, list):
        for v in value:
            no_nul(v)
    return value


class GlobalParameterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    type = serializers.CharField(max_length=10, help_text="str, int, float, bool, list or dict")
    default = serializers.JSONField(required=False, allow_null=True, validators=[no_nul])
    help = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class PositionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class OutputField(serializers.JSONField):
    """An output is a name, or {"name": ..., "type": ...} when its type is known."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if isinstance(data, str) and data:
            return data
        if isinstance(data, dict) and isinstance(data.get("name"), str) and set(data) <= {"name", "type"}:
            return data
        raise serializers.ValidationError('An output is a name or {"name": ..., "type": ...}.')

    class Meta:
        swagger_schema_fields = {"oneOf": [{"type": "string"}, {"type": "object"}]}


class NodeSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64)
    label = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    notebook = serializers.CharField(max_length=128)
    parameters = serializers.DictField(child=serializers.JSONField(), required=False, default=dict, validators=[no_nul])
    outputs = serializers.ListField(child=OutputField(), required=False, default=list, max_length=200)
    retries = serializers.IntegerField(min_value=0, max_value=100, default=NODE_DEFAULTS["retries"])
    retry_delay_s = serializers.IntegerField(min_value=0, max_value=86400, default=NODE_DEFAULTS["retry_delay_s"])
    # A week bounds one notebook; larger values overflow Airflow's execution_timeout (a timedelta).
    timeout_s = serializers.IntegerField(min_value=1, max_value=7 * 86400, allow_null=True, required=False, default=None)
    trigger_rule = serializers.CharField(max_length=40, default=NODE_DEFAULTS["trigger_rule"])
    pool = serializers.CharField(max_length=256, allow_null=True, required=False, default=None)
    queue = serializers.CharField(max_length=256, allow_null=True, required=False, default=None)
    map_over = serializers.CharField(max_length=200, allow_null=True, allow_blank=True, required=False, default=None)
    map_parameter = serializers.CharField(max_length=64, allow_null=True, allow_blank=True, required=False, default=None)
    max_active = serializers.IntegerField(min_value=1, max_value=1000, allow_null=True, required=False, default=None)
    connections = serializers.ListField(child=serializers.CharField(max_length=63), required=False, default=list)
    position = PositionSerializer(required=False, default=lambda: {"x": 0, "y": 0})


class EdgeSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64)
    target = serializers.CharField(max_length=64)
    bind = serializers.DictField(
        child=serializers.CharField(max_length=64), required=False, default=dict,
        help_text="{upstream output: downstream parameter}",
    )


class GraphSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")
    schedule = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=100, default=None,
                                     help_text="cron expression, @daily-style preset, or null for manual runs")
    start_date = serializers.CharField(required=False, max_length=10, default="2026-01-01", help_text="YYYY-MM-DD")
    catchup = serializers.BooleanField(required=False, default=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list, max_length=50)
    parameters = GlobalParameterSerializer(many=True, required=False, default=list)
    nodes = NodeSerializer(many=True, required=False, default=list, max_length=MAX_NODES)
    edges = EdgeSerializer(many=True, required=False, default=list, max_length=MAX_NODES * 4)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        # Blank and null mean the same for these optional references; store one form.
        for node in value["nodes"]:
            node["map_over"] = node["map_over"] or None
            node["map_parameter"] = node["map_parameter"] or None
        value["schedule"] = value["schedule"] or None
        return value


class GraphUpdateSerializer(GraphSerializer):
    base_version = serializers.IntegerField(min_value=1, help_text="The version this edit started from.")


class ValidateRequestSerializer(serializers.Serializer):
    graph = GraphSerializer(required=False, help_text="A graph to check; the latest saved version when absent.")


class GraphErrorSerializer(serializers.Serializer):
    node = serializers.CharField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = GraphErrorSerializer(many=True)


class LastRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class WorkflowSerializer(serializers.ModelSerializer):
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = ["id", "name", "latest_version", "created_at", "updated_at", "last_run"]

    @extend_schema_field(LastRunSerializer(allow_null=True))
    def get_last_run(self, workflow) -> dict | None:
        """From the annotations of selectors.workflow_list (no query per workflow)."""
        if workflow.last_run_id is None:
            return None
        return LastRunSerializer({"id": workflow.last_run_id, "status": workflow.last_run_status,
                                  "created_at": workflow.last_run_created_at}).data


class WorkflowVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "created_at", "created_by", "notebook_pins"]


class WorkflowDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="workflow.id")
    name = serializers.CharField(source="workflow.name")
    version = serializers.IntegerField(source="number")
    latest_version = serializers.IntegerField(source="workflow.latest_version")
    graph = GraphSerializer()
    notebook_pins = serializers.JSONField()
    errors = GraphErrorSerializer(many=True, help_text="Validation problems of this version (empty when runnable).")
    created_at = serializers.DateTimeField(source="workflow.created_at")
    updated_at = serializers.DateTimeField(source="created_at")


class StaleSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    current = WorkflowDetailSerializer()
