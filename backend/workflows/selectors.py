from catalog.models import NotebookVersion
from catalog.selectors import notebook_signatures
from tenancy.models import Connection, Tenant
from workflows.graph import GraphError, graph_validate
from workflows.models import Workflow, WorkflowVersion


def workflow_version_get(*, workflow: Workflow, number: int | None = None) -> WorkflowVersion:
    """A version of the workflow (the latest by default); DoesNotExist when there is no such number."""
    return workflow.versions.get(number=number or workflow.latest_version)


def workflow_errors(*, tenant: Tenant, graph: dict) -> list[GraphError]:
    """Validate a graph against the tenant's current catalog and connections."""
    names = {n.get("notebook") for n in graph.get("nodes", [])}
    return graph_validate(
        graph,
        notebooks=notebook_signatures(tenant=tenant, names=names),
        connections=Connection.objects.filter(tenant=tenant).values_list("name", flat=True),
    )


def workflow_version_errors(*, version: WorkflowVersion) -> list[GraphError]:
    """Validate a saved version against the notebook versions it pinned."""
    pins = version.notebook_pins
    pinned = NotebookVersion.objects.filter(
        notebook__tenant=version.workflow.tenant, notebook__name__in=pins
    ).select_related("notebook").defer("content")
    notebooks = {v.notebook.name: v.parameters for v in pinned if pins[v.notebook.name]["sha256"] == v.sha256}
    return graph_validate(
        version.graph,
        notebooks=notebooks,
        connections=Connection.objects.filter(tenant=version.workflow.tenant).values_list("name", flat=True),
    )


def workflow_names_using_notebook(*, tenant: Tenant, notebook_name: str) -> list[str]:
    """Workflows whose latest version has a node running this notebook."""
    names = []
    for workflow in Workflow.objects.filter(tenant=tenant):
        graph = workflow.versions.get(number=workflow.latest_version).graph
        if any(n.get("notebook") == notebook_name for n in graph.get("nodes", [])):
            names.append(workflow.name)
    return names
