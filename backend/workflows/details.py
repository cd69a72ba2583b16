"""The API's view of one workflow version: its graph and pins with its validation errors."""
from workflows.models import WorkflowVersion
from workflows.selectors import workflow_version_errors
from workflows.serializers import WorkflowDetailSerializer


def workflow_detail(version: WorkflowVersion) -> dict:
    """A version as WorkflowDetailSerializer shows it, validated against the notebooks it pinned."""
    errors = workflow_version_errors(version=version)
    return WorkflowDetailSerializer(
        {**{f: getattr(version, f) for f in ("workflow", "number", "graph", "notebook_pins", "created_at")},
         "errors": [e.as_dict() for e in errors]}
    ).data
