"""The shape of a workflow graph as the API accepts it. Meaning is checked by workflows.validation.

These serializers are the one description of the graph's shape: the OpenAPI schema is made
from them (`manage.py spectacular`), and the editor's API types are generated from the schema
(scripts/api_types.sh). Defaults come from workflows.graph (NODE_DEFAULTS, GRAPH_DEFAULTS,
EDGE_DEFAULTS). The rules behind the fields: docs/workflow-graph.md.
"""
import copy
import json
from collections.abc import Mapping

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.inspection import TYPES
from tenancy.serializers import MEMORY_MAX, PROCS_MAX, TIMEOUT_MAX, platform_max
from workflows.graph import ALERT_DEFAULTS, ALERT_EVENTS, EDGE_DEFAULTS, GRAPH_DEFAULTS, NODE_DEFAULTS, TRIGGER_RULES
from workflows.models import Workflow, WorkflowVersion


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


def value_size(value):
    """Refuse a parameter value larger than LOOM_VALUE_MAX_BYTES as JSON: values are copied into
    every run, its DAG file, Airflow's run conf and each notebook; large data belongs in files."""
    limit = settings.LOOM_VALUE_MAX_BYTES
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > limit:
        raise serializers.ValidationError(
            f"The value is {size:,} bytes as JSON; the limit is {limit:,} bytes (LOOM_VALUE_MAX_BYTES).")
    return value


def graph_size(data) -> None:
    """Refuse a graph with more nodes or edges than the limits, before any of them is checked."""
    if not isinstance(data, Mapping):
        return
    for field, setting in (("nodes", "LOOM_GRAPH_MAX_NODES"), ("edges", "LOOM_GRAPH_MAX_EDGES")):
        items, limit = data.get(field), getattr(settings, setting)
        if isinstance(items, list) and len(items) > limit:
            raise serializers.ValidationError(
                {field: [f"The graph has {len(items):,} {field}; the limit is {limit:,} ({setting})."]})


def _default(defaults: dict, name: str):
    """A field default from one of workflows.graph's defaults; mutable ones are copied per use."""
    value = defaults[name]
    return (lambda: copy.deepcopy(value)) if isinstance(value, (dict, list)) else value


class JSONValueField(serializers.JSONField):
    """Any JSON value: in the schema, the recursive component JsonValue."""


class JSONValueFieldSchema(OpenApiSerializerFieldExtension):
    target_class = JSONValueField

    def get_name(self):
        return "JsonValue"

    def map_serializer_field(self, auto_schema, direction):
        ref = {"$ref": "#/components/schemas/JsonValue"}
        return {"nullable": True, "oneOf": [
            {"type": "string"}, {"type": "number"}, {"type": "boolean"},
            {"type": "array", "items": ref}, {"type": "object", "additionalProperties": ref},
        ]}


class TypeNameField(serializers.CharField):
    """A parameter or output type name. Drafts may hold others; validation reports them."""

    def __init__(self, **kwargs):
        super().__init__(max_length=10, **kwargs)


class TypeNameFieldSchema(OpenApiSerializerFieldExtension):
    target_class = TypeNameField

    def get_name(self):
        return "ParamType"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": list(TYPES)}


class GlobalParameterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text=(
        "Letters, digits and '_'. Every node whose notebook declares a parameter of this name gets its value "
        "(the 'global' layer), and a run may override it."))
    type = TypeNameField(help_text="The type of the value: str, int, float, bool, list or dict.")
    default = JSONValueField(required=False, allow_null=True, validators=[no_nul, value_size], help_text=(
        "The value, of `type`. null gives nothing: notebooks keep their own default unless a run gives one. "
        "At most LOOM_VALUE_MAX_BYTES (64 KiB) as JSON."))
    help = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000,
                                 help_text="Shown to whoever starts a run.")


class PositionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class OutputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name the notebook sets the output under.")
    type = TypeNameField(required=False, allow_null=True, help_text="Checked against the parameters it is bound to.")


class OutputField(serializers.JSONField):
    """An output is a name, or {"name": ..., "type": ...} when its type is known."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if isinstance(data, str) and data:
            return data
        if isinstance(data, dict) and isinstance(data.get("name"), str) and set(data) <= {"name", "type"}:
            return data
        raise serializers.ValidationError('An output is a name or {"name": ..., "type": ...}.')


class OutputFieldSchema(OpenApiSerializerFieldExtension):
    target_class = OutputField

    def map_serializer_field(self, auto_schema, direction):
        named = auto_schema.resolve_serializer(OutputSerializer, direction).ref
        return {"oneOf": [{"type": "string", "minLength": 1}, named]}


N = NODE_DEFAULTS


class NodeSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64, help_text=(
        "Unique in the graph: letters, digits and '_', not starting with a digit. The task id in Airflow."))
    label = serializers.CharField(required=False, allow_blank=True, max_length=200, default=N["label"],
                                  help_text="The name shown for the node (its id when blank).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default=N["description"],
                                        help_text="Free text; the Airflow task's documentation.")
    notebook = serializers.CharField(max_length=128, help_text=(
        "A notebook of the tenant's catalog, by name. Each saved version pins the notebook version it was saved against."))
    parameters = serializers.DictField(
        child=JSONValueField(validators=[value_size]), required=False, default=_default(N, "parameters"),
        validators=[no_nul], help_text=("{notebook parameter: value}: this node's own values (the 'node' layer); "
                                        "each at most LOOM_VALUE_MAX_BYTES (64 KiB) as JSON."))
    outputs = serializers.ListField(
        child=OutputField(), required=False, default=_default(N, "outputs"), max_length=200,
        help_text=("Outputs the notebook must set: names, or {name, type} to have bindings type-checked. "
                   "A fanned-out node gives each output as a list in item order."))
    retries = serializers.IntegerField(min_value=0, max_value=100, default=N["retries"],
                                       help_text="Attempts after a failed one.")
    retry_delay_s = serializers.IntegerField(min_value=0, max_value=86400, default=N["retry_delay_s"],
                                             help_text="Seconds between attempts.")
    # A week bounds one notebook; larger values overflow Airflow's execution_timeout (a timedelta).
    timeout_s = serializers.IntegerField(
        min_value=1, max_value=7 * 86400, allow_null=True, required=False, default=N["timeout_s"],
        validators=[platform_max(*TIMEOUT_MAX)],
        help_text="Seconds the whole notebook may run before its kernel is killed; null: the tenant's default, "
                  "else LOOM_NODE_TIMEOUT_S. At most the platform maximum (LOOM_NODE_TIMEOUT_MAX_S).")
    # The kernel's limits (docs/sandbox.md, "Limits"), enforced by its sandbox: at most the platform's.
    memory_mb = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, default=N["memory_mb"],
        validators=[platform_max(*MEMORY_MAX)],
        help_text="Memory each process of the kernel may use, in MB (at most LOOM_KERNEL_MEMORY_MB); "
                  "null: the tenant's default, else LOOM_KERNEL_MEMORY_MB.")
    max_procs = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, default=N["max_procs"],
        validators=[platform_max(*PROCS_MAX)],
        help_text="Processes and threads the kernel may run (at most LOOM_KERNEL_MAX_PROCS); "
                  "null: the tenant's default, else LOOM_KERNEL_MAX_PROCS.")
    trigger_rule = serializers.CharField(
        max_length=40, default=N["trigger_rule"],
        help_text="When the node runs, given its upstream nodes' states, as in Airflow: " + ", ".join(TRIGGER_RULES) + ".")
    pool = serializers.CharField(max_length=256, allow_null=True, required=False, default=N["pool"], help_text=(
        "One of the tenant's pools (Tenant.pools), whose slots are part of its quota (Airflow pool "
        "loom__<tenant>__<pool>); null: the quota's other slots."))
    queue = serializers.CharField(max_length=256, allow_null=True, required=False, default=N["queue"],
                                  help_text="The Airflow queue of the node's tasks, one of the tenant's allowed_queues; null: the default queue.")
    map_over = serializers.CharField(
        max_length=200, allow_null=True, allow_blank=True, required=False, default=N["map_over"],
        help_text=("Fan out: run the node once per item of a global list parameter (its name) or of an upstream "
                   "output ('node.output'). Blank is stored as null: no fan-out."))
    map_parameter = serializers.CharField(
        max_length=64, allow_null=True, allow_blank=True, required=False, default=N["map_parameter"],
        help_text="The notebook parameter that receives each item; null: the one named like the global or output.")
    max_active = serializers.IntegerField(
        min_value=1, max_value=1000, allow_null=True, required=False, default=N["max_active"],
        help_text="Items of a fanned-out node running at once; null: LOOM_MAP_MAX_ACTIVE (16).")
    max_failed_items = serializers.IntegerField(
        min_value=0, allow_null=True, required=False, default=N["max_failed_items"],
        help_text=("Items of a fanned-out node that may fail with the node still succeeding (with a warning); "
                   "null: none. With max_failed_ratio too, the smaller allowance applies."))
    max_failed_ratio = serializers.FloatField(
        min_value=0, max_value=1, allow_null=True, required=False, default=N["max_failed_ratio"],
        help_text="The share of a fanned-out node's items (0 to 1, rounded down) that may fail; null: none.")
    reuse_kernel = serializers.BooleanField(required=False, default=N["reuse_kernel"], help_text=(
        "For a fanned-out node: items that run one after another on the same worker thread share one kernel, "
        "its namespace reset between items (IPython's reset) but its imported modules kept, so heavy imports are "
        "paid once per kernel instead of once per item. Never shared across runs or tenants; an item that fails, "
        "times out or is cancelled has its kernel discarded. Only for notebooks that do not depend on module "
        "globals left by an earlier item. No effect on Airflow (each mapped task is a process of its own)."))
    connections = serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, default=_default(N, "connections"),
        help_text="Names of the tenant's connections the kernel gets as LOOM_CONN_<NAME>_* environment variables.")
    cache = serializers.BooleanField(required=False, default=N["cache"], help_text=(
        "Whether a run with the cache on may reuse an earlier result of this node with the same inputs; false for "
        "a notebook that reads the clock or external data."))
    position = PositionSerializer(required=False, default=_default(N, "position"),
                                  help_text="Where the editor draws the node.")


class EdgeSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64, help_text="The upstream node's id.")
    target = serializers.CharField(max_length=64, help_text="The downstream node's id; it runs after `source`.")
    bind = serializers.DictField(
        child=serializers.CharField(max_length=64), required=False, default=_default(EDGE_DEFAULTS, "bind"),
        help_text="{upstream output: downstream parameter} (the 'edge' layer); empty: only the order.",
    )


class AlertRuleSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=63, help_text="The name of one of the tenant's notification channels.")
    on = serializers.ListField(
        child=serializers.ChoiceField(choices=ALERT_EVENTS), required=False, default=_default(ALERT_DEFAULTS, "on"),
        max_length=len(ALERT_EVENTS),
        help_text="failure; success; recovery (the first success after a failure); duration (a run longer than "
                  "duration_s, alerted while it is still running, once per run).")
    duration_s = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, default=ALERT_DEFAULTS["duration_s"],
        help_text="For `duration`: a run going longer than this many seconds alerts while it is still running "
                  "(Celery beat checks every LOOM_ALERT_DURATION_CHECK_S), or at its end if it ended first; once per run.")


G = GRAPH_DEFAULTS


class GraphSerializer(serializers.Serializer):
    """A workflow graph: global parameters, nodes (notebooks) and edges. See docs/workflow-graph.md."""

    name = serializers.CharField(max_length=200, help_text="The workflow's name; the DAG's display name.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000, default=G["description"],
                                        help_text="Free text; the DAG's description.")
    schedule = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=100,
                                     default=G["schedule"],
                                     help_text="cron expression, @daily-style preset, or null for manual runs")
    start_date = serializers.CharField(required=False, max_length=10, default=G["start_date"],
                                       help_text="YYYY-MM-DD: the first day a schedule covers.")
    catchup = serializers.BooleanField(required=False, default=G["catchup"],
                                       help_text="Whether Airflow runs the intervals missed since start_date.")
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                 default=_default(G, "tags"), max_length=50, help_text="Tags of the Airflow DAG.")
    parameters = GlobalParameterSerializer(many=True, required=False, default=_default(G, "parameters"),
                                           help_text="The workflow's global parameters.")
    nodes = NodeSerializer(many=True, required=False, default=_default(G, "nodes"),
                           help_text="The notebooks to run; at most LOOM_GRAPH_MAX_NODES (2,000).")
    edges = EdgeSerializer(many=True, required=False, default=_default(G, "edges"),
                           help_text="Upstream → downstream, with what each passes on; at most LOOM_GRAPH_MAX_EDGES (8,000).")
    alerts = AlertRuleSerializer(many=True, required=False, default=_default(G, "alerts"), max_length=50,
                                 help_text="Alert rules: which of the tenant's channels hear of which events of runs.")

    def to_internal_value(self, data):
        graph_size(data)
        value = super().to_internal_value(data)
        # Blank and null mean the same for these optional references; store one form.
        for node in value["nodes"]:
            node["map_over"] = node["map_over"] or None
            node["map_parameter"] = node["map_parameter"] or None
        value["schedule"] = value["schedule"] or None
        return value


class StoredGraphSchema(OpenApiSerializerExtension):
    """The graph in responses: a saved graph has every field (defaults filled in), so the schema
    (and the editor's generated types) say so; defaults appear as workflows.graph defines them."""

    target_class = "workflows.serializers.GraphSerializer"
    match_subclasses = True
    defaults = GRAPH_DEFAULTS

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return _complete(schema, self.defaults, direction)


class StoredNodeSchema(StoredGraphSchema):
    target_class, defaults = NodeSerializer, NODE_DEFAULTS


class StoredEdgeSchema(StoredGraphSchema):
    target_class, defaults = EdgeSerializer, EDGE_DEFAULTS


class StoredParameterSchema(StoredGraphSchema):
    target_class, defaults = GlobalParameterSerializer, {}


class StoredAlertRuleSchema(StoredGraphSchema):
    target_class, defaults = AlertRuleSerializer, ALERT_DEFAULTS


def _complete(schema: dict, defaults: dict, direction: str) -> dict:
    for name, value in defaults.items():
        if name in schema["properties"]:
            schema["properties"][name]["default"] = value
    if direction == "response":
        schema["required"] = list(schema["properties"])
    return schema


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


class NotebookPinSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The notebook version this workflow version runs.")
    sha256 = serializers.CharField(help_text="That version's content hash.")


def notebook_pins_field() -> serializers.DictField:
    return serializers.DictField(child=NotebookPinSerializer(), help_text="{notebook name: the version it pins}")


class WorkflowVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    notebook_pins = notebook_pins_field()

    class Meta:
        model = WorkflowVersion
        fields = ["number", "created_at", "created_by", "notebook_pins"]


class StoredGraphField(serializers.Field):
    """A saved graph, shown as stored: it was shaped by GraphSerializer and normalized when saved
    (and migrations keep it so), so running it through GraphSerializer again on every read would
    only cost time (a third of a 1,000-node workflow's GET). Used in responses only."""

    def to_representation(self, value):
        return value


class StoredGraphFieldSchema(OpenApiSerializerFieldExtension):
    target_class = StoredGraphField

    def map_serializer_field(self, auto_schema, direction):
        return auto_schema.resolve_serializer(GraphSerializer, direction).ref


class WorkflowDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="workflow.id")
    name = serializers.CharField(source="workflow.name")
    version = serializers.IntegerField(source="number")
    latest_version = serializers.IntegerField(source="workflow.latest_version")
    graph = StoredGraphField()
    notebook_pins = notebook_pins_field()
    errors = GraphErrorSerializer(many=True, help_text="Validation problems of this version (empty when runnable).")
    created_at = serializers.DateTimeField(source="workflow.created_at")
    updated_at = serializers.DateTimeField(source="created_at")


class StaleSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    current = WorkflowDetailSerializer()
