from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from runs.compare import duration_s, parameters_changed
from runs.engines import ENGINE_NAMES
from runs.models import NodeRun, Run, Status
from catalog.serializers import DiffCellSerializer
from workflows.serializers import no_nul, value_size


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["latest"]}]})
class RunRefField(serializers.Field):
    """A run id, or "latest"."""

    def to_internal_value(self, data):
        if data == "latest" or (isinstance(data, int) and not isinstance(data, bool) and data > 0):
            return data
        raise serializers.ValidationError('A run id or "latest".')

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["latest"]}]})
class VersionRefField(RunRefField):
    """A version number, or "latest"."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            raise serializers.ValidationError('A version number or "latest".') from None


class RunStartSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(choices=ENGINE_NAMES, default="local")
    parameters = serializers.DictField(child=serializers.JSONField(validators=[value_size]), required=False, default=dict,
                                       validators=[no_nul], help_text=("Values for the workflow's global parameters, "
                                                                       "for this run only; each at most LOOM_VALUE_MAX_BYTES."))
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version to run; the latest by default.")
    only = serializers.ListField(child=serializers.CharField(max_length=64), required=False, allow_empty=False, max_length=1000,
                                 help_text="A partial run: only these nodes execute; the others reuse (see `reuse`).")
    vars()["from"] = serializers.CharField(max_length=64, required=False, help_text=(
        "A partial run: this node and everything downstream of it execute; the others reuse."))
    to = serializers.CharField(max_length=64, required=False, help_text=(
        "A partial run: this node and everything upstream of it execute; the others reuse."))
    reuse = RunRefField(required=False, help_text=(
        'The run (an id, or "latest": the newest in which they all succeeded) whose outputs the nodes outside a '
        "partial run's selection take. Refused (400) when it lacks one or a node or binding changed since."))
    cache = serializers.BooleanField(required=False, default=False, help_text=(
        "Take a node's outputs from the tenant's newest success with the same inputs (notebook version, resolved "
        "parameters, upstream outputs, connection names, notebook environment) instead of executing it; nodes "
        "with cache: false always run. The editor sends true; false forces every node to run."))
    logical_date = serializers.DateTimeField(required=False, help_text="The date the run stands for; now by default.")
    data_interval_start = serializers.DateTimeField(required=False, help_text="Default: the logical date.")
    data_interval_end = serializers.DateTimeField(required=False, help_text="Default: the logical date.")

    def validate(self, data):
        start, end = data.pop("data_interval_start", None), data.pop("data_interval_end", None)
        logical = data.get("logical_date")
        if start or end:
            start, end = start or logical or end, end or logical or start
            if start > end:
                raise serializers.ValidationError({"data_interval_start": "The data interval starts after it ends."})
            data["data_interval"] = (start, end)
            data.setdefault("logical_date", end)
        return data


class RunRepairSerializer(serializers.Serializer):
    version = VersionRefField(required=False, help_text=(
        'The version the rerun nodes run on (a number, or "latest"); the run\'s own by default.'))
    parameters = serializers.DictField(child=serializers.JSONField(validators=[value_size]), required=False, default=dict,
                                       validators=[no_nul], help_text="Run parameters to change for the rerun.")


class NodeErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    cell_index = serializers.IntegerField(allow_null=True)
    cell_source = serializers.CharField(allow_blank=True)
    traceback = serializers.CharField(allow_blank=True)


class SourceSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    node_run = serializers.IntegerField()


def _source(node_run_id, run_id) -> dict | None:
    return {"run": run_id, "node_run": node_run_id} if node_run_id else None


class NodeRunSerializer(serializers.ModelSerializer):
    error = NodeErrorSerializer(allow_null=True)
    outputs = serializers.DictField(child=serializers.JSONField())
    items = serializers.DictField(
        source="items_counted", child=serializers.IntegerField(), allow_null=True, read_only=True,
        help_text="A fanned-out node's items by status ({status: count}); null for a node without items. "
                  "The items themselves: GET .../runs/{id}/nodes/{node}/items/.")

    version = serializers.IntegerField(source="version_number", allow_null=True, read_only=True, default=None,
                                       help_text="The workflow version this node ran on (a repair may move it to a newer one).")
    reused_from = serializers.SerializerMethodField(help_text=(
        "Not executed: a partial run took its outputs from this node run ({run, node_run}); else null."))
    cached_from = serializers.SerializerMethodField(help_text=(
        "Not executed: the cache took its outputs from this earlier node run ({run, node_run}); else null."))

    class Meta:
        model = NodeRun
        fields = ["node", "map_index", "status", "attempts", "started_at", "ended_at", "outputs", "error", "warnings",
                  "items", "version", "reused_from", "cached_from"]

    @extend_schema_field(SourceSerializer(allow_null=True))
    def get_reused_from(self, row):
        return _source(row.reused_from_id, getattr(row, "reused_run", None))

    @extend_schema_field(SourceSerializer(allow_null=True))
    def get_cached_from(self, row):
        return _source(row.cached_from_id, getattr(row, "cached_run", None))


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
                  "duration_s", "created_by", "parameters_changed", "external_id", "logical_date", "data_interval_start",
                  "data_interval_end"]
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
        fields = [*RunSerializer.Meta.fields, "parameters", "error", "cache", "nodes"]
        extra_kwargs = {**RunSerializer.Meta.extra_kwargs,
                        "cache": {"help_text": "Whether the cache could answer this run's nodes."}}


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
