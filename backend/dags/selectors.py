from dataclasses import dataclass

from catalog.models import NotebookVersion
from dags import naming
from dags.rendering import PinnedNotebook, dag_context, dag_filename, dag_render, runtime_sources
from workflows.models import Workflow, WorkflowVersion
from workflows.services import workflow_version_runnable


@dataclass(frozen=True)
class DagFile:
    filename: str
    source: str
    version: int


def dag_notebooks(*, version: WorkflowVersion, content: bool = False) -> dict[str, NotebookVersion]:
    """The notebook versions a workflow version pinned, by name (with content only if asked)."""
    pins = version.notebook_pins
    found = NotebookVersion.objects.filter(notebook__tenant=version.workflow.tenant, notebook__name__in=pins)
    if not content:
        found = found.defer("content")
    return {v.notebook.name: v for v in found.select_related("notebook") if pins[v.notebook.name]["sha256"] == v.sha256}


def dag_file_get(*, workflow: Workflow, number: int | None = None) -> DagFile:
    """The DAG file of a version (the latest by default).

    Raises WorkflowInvalid with every problem when the version fails validation, and
    WorkflowVersion.DoesNotExist when there is no such version.
    """
    version = workflow_version_runnable(workflow=workflow, number=number)
    tenant = workflow.tenant.slug
    notebooks = {
        name: PinnedNotebook(sha256=v.sha256, parameters=tuple(p["name"] for p in v.parameters))
        for name, v in dag_notebooks(version=version).items()
    }
    context = dag_context(
        graph=version.graph, tenant=tenant, workflow_id=workflow.id, version=version.number,
        notebooks=notebooks, runtime=runtime_sources(),
    )
    return DagFile(filename=dag_filename(tenant=tenant, workflow_id=workflow.id), source=dag_render(context),
                   version=version.number)


def dag_notebook_files(*, version: WorkflowVersion) -> dict[str, str]:
    """{path under the notebooks base directory: notebook content} for the version's DAG."""
    tenant = version.workflow.tenant.slug
    return {
        naming.notebook_relpath(tenant=tenant, sha256=v.sha256, name=name): v.content
        for name, v in dag_notebooks(version=version, content=True).items()
    }
