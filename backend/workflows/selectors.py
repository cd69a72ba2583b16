from django.db.models import F, OuterRef, QuerySet, Subquery

from catalog.models import NotebookVersion
from catalog.selectors import notebook_signatures
from tenancy.models import Connection, Tenant
from workflows.graph import GraphError, graph_validate
from workflows.models import Workflow, WorkflowVersion


def workflow_list(*, tenant: Tenant) -> QuerySet[Workflow]:
    """The tenant's workflows, each annotated with its last run (`last_run_id`, `last_run_status`,
    `last_run_created_at`; None without runs) in the same query, through the runs' reverse relation."""
    def last_run(field: str) -> Subquery:
        runs = Workflow.objects.filter(pk=OuterRef("pk"), runs__isnull=False).order_by("-runs__id")
        return Subquery(runs.values(f"runs__{field}")[:1])

    return Workflow.objects.filter(tenant=tenant).annotate(
        last_run_id=last_run("id"), last_run_status=last_run("status"), last_run_created_at=last_run("created_at"),
    )


def workflow_version_get(*, workflow: Workflow, number: int | None = None) -> WorkflowVersion:
    """A version of the workflow (the latest by default); WorkflowVersion.DoesNotExist naming the
    workflow and the number when there is no such version."""
    try:
        return workflow.versions.get(number=number or workflow.latest_version)
    except WorkflowVersion.DoesNotExist:
        raise WorkflowVersion.DoesNotExist(f"Workflow '{workflow.name}' has no version {number}.") from None


def version_notebooks(*, version: WorkflowVersion, names: set[str] | None = None,
                      content: bool = False) -> dict[str, NotebookVersion]:
    """The notebook versions a workflow version pinned, by name, in one query (only `names` if
    given; with their content only if asked). A pin whose notebook version is gone is left out.

    A pin is matched by content (sha256): re-uploading a deleted notebook's exact content serves it."""
    pins = {name: pin for name, pin in version.notebook_pins.items() if names is None or name in names}
    if not pins:
        return {}
    tenant = Workflow.objects.filter(pk=version.workflow_id).values("tenant_id")  # a subquery: one round trip
    found = NotebookVersion.objects.filter(
        notebook__tenant_id=Subquery(tenant), notebook__name__in=pins,
        sha256__in={pin["sha256"] for pin in pins.values()},
    ).select_related("notebook").order_by("number")
    if not content:
        found = found.defer("content")
    return {v.notebook.name: v for v in found if pins[v.notebook.name]["sha256"] == v.sha256}


def workflow_errors(*, tenant: Tenant, graph: dict) -> list[GraphError]:
    """Validate a graph against the tenant's current catalog and connections."""
    names = {n.get("notebook") for n in graph.get("nodes", [])}
    return graph_validate(
        graph,
        notebooks=notebook_signatures(tenant=tenant, names=names),
        connections=Connection.objects.filter(tenant=tenant).values_list("name", flat=True),
        pools=tenant.pools, queues=tenant.allowed_queues,
    )


def workflow_version_errors(*, version: WorkflowVersion) -> list[GraphError]:
    """Validate a saved version against the notebook versions it pinned."""
    tenant = version.workflow.tenant
    return graph_validate(
        version.graph,
        notebooks={name: v.parameters for name, v in version_notebooks(version=version).items()},
        connections=Connection.objects.filter(tenant=tenant).values_list("name", flat=True),
        pools=tenant.pools, queues=tenant.allowed_queues,
    )


def workflow_names_using_notebook(*, tenant: Tenant, notebook_name: str) -> list[str]:
    """Workflows whose latest version has a node running this notebook."""
    latest = WorkflowVersion.objects.filter(
        workflow__tenant=tenant, number=F("workflow__latest_version")
    ).select_related("workflow").order_by("workflow__name", "workflow__id")
    return [v.workflow.name for v in latest
            if any(n.get("notebook") == notebook_name for n in v.graph.get("nodes", []))]
