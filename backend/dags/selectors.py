from dataclasses import dataclass

from django.conf import settings

from dags import naming
from dags.rendering import PinnedNotebook, dag_context, dag_filename, dag_render, runtime_sources
from workflows.models import WorkflowVersion
from workflows.selectors import version_notebooks
from workflows.services import workflow_version_runnable


@dataclass(frozen=True)
class DagFile:
    filename: str
    source: str
    version: int


def dag_file_get(*, version: WorkflowVersion) -> DagFile:
    """The DAG file of a workflow version; WorkflowInvalid with every problem when it fails validation."""
    workflow_version_runnable(version=version)
    workflow = version.workflow
    tenant = workflow.tenant.slug
    notebooks = {
        name: PinnedNotebook(sha256=v.sha256, parameters=tuple(p["name"] for p in v.parameters))
        for name, v in version_notebooks(version=version).items()
    }
    context = dag_context(
        graph=version.graph, tenant=tenant, workflow_id=workflow.id, version=version.number,
        notebooks=notebooks, runtime=runtime_sources(), tenant_limits=tenant_limits(workflow.tenant),
        timeout_max_s=settings.LOOM_NODE_LIMITS.timeout_max_s,
    )
    return DagFile(filename=dag_filename(tenant=tenant, workflow_id=workflow.id), source=dag_render(context),
                   version=version.number)


def tenant_limits(tenant) -> dict:
    """The tenant's own limits a DAG carries (docs/sandbox.md, "Limits"); a change reaches Airflow with the next deploy."""
    return {field: getattr(tenant, field) for field in
            ("node_timeout_s", "artifacts_quota_mb", "node_memory_mb", "node_max_procs")}


def dag_notebook_files(*, version: WorkflowVersion) -> dict[str, str]:
    """{path under the notebooks base directory: notebook content} for the version's DAG."""
    tenant = version.workflow.tenant.slug
    return {
        naming.notebook_relpath(tenant=tenant, sha256=v.sha256, name=name): v.content
        for name, v in version_notebooks(version=version, content=True).items()
    }
