"""The API's view of one workflow version: its graph and pins with its validation errors, and the
ETag naming that answer (a conditional GET gets 304 without the graph being read)."""
import hashlib
import json
from pathlib import Path

from workflows.models import WorkflowVersion
from workflows.selectors import version_graph_json, workflow_version_errors
from workflows.serializers import WorkflowDetailSerializer

# A saved graph changes only when this app's migrations rewrite it (normalizing its form): the newest
# one's name goes into every ETag, so that browsers do not keep a graph of the older form.
GRAPH_FORM = max(p.stem for p in (Path(__file__).parent / "migrations").glob("[0-9]*.py"))


def workflow_detail(version: WorkflowVersion, *, graph: bool = True) -> dict:
    """A version as WorkflowDetailSerializer shows it, with the problems it has against the
    notebooks it pinned (kept from its save). A version read without its graph (`defer`) has it
    sent as the database's JSON text (selectors.version_graph_json). graph=False: all but the graph
    (None), which detail_graph adds."""
    errors = workflow_version_errors(version=version)
    detail = WorkflowDetailSerializer(
        {**{f: getattr(version, f) for f in ("workflow", "number", "notebook_pins", "created_at")},
         "graph": None, "errors": [e.as_dict() for e in errors]}
    ).data
    return detail_graph(detail, version) if graph else detail


def detail_graph(detail: dict, version: WorkflowVersion) -> dict:
    deferred = "graph" in version.get_deferred_fields()
    detail["graph"] = version_graph_json(version=version) if deferred else version.graph
    return detail


def detail_etag(detail: dict, version: WorkflowVersion) -> str:
    """The ETag of the answer `detail` (its graph aside) will be: the graph stands in by the version
    it belongs to, which never changes; the rest (names, numbers, the problems the tenant's
    connections or pools make) as it is sent."""
    rest = json.dumps({k: v for k, v in detail.items() if k != "graph"}, sort_keys=True, default=str)
    named = f"{GRAPH_FORM}:{version.pk}:{version.created_at.isoformat()}:{rest}"
    return f'"{hashlib.sha256(named.encode()).hexdigest()[:32]}"'
