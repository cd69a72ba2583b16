"""The API's view of one workflow version: its graph and pins with its validation errors."""
from loom.renderers import RawJSON
from workflows.models import WorkflowVersion
from workflows.selectors import workflow_version_errors
from workflows.serializers import WorkflowDetailSerializer


def workflow_detail(version: WorkflowVersion) -> dict:
    """A version as WorkflowDetailSerializer shows it, with the problems it has against the
    notebooks it pinned (kept from its save). A version read with `graph_text`
    (selectors.workflow_version_get) has its graph sent as the database's JSON text."""
    errors = workflow_version_errors(version=version)
    graph = RawJSON(version.graph_text) if hasattr(version, "graph_text") else version.graph
    return WorkflowDetailSerializer(
        {**{f: getattr(version, f) for f in ("workflow", "number", "notebook_pins", "created_at")},
         "graph": graph, "errors": [e.as_dict() for e in errors]}
    ).data
