from django.db import IntegrityError, transaction

from audit.services import Action, record
from catalog.selectors import latest_versions
from loom.errors import Conflict, Invalid
from tenancy.models import Tenant
from workflows.details import workflow_detail
from workflows.graph import GraphError, graph_normalize
from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import version_validation, workflow_version_errors, workflow_version_get


class StaleVersion(Conflict):
    """A save based on a version that is no longer the latest; the answer carries the current one."""

    def __init__(self, workflow: Workflow):
        self.workflow = workflow
        super().__init__(
            f"This workflow was saved by someone else since (now version {workflow.latest_version}). "
            "Reload it, or save again based on the current version to overwrite."
        )

    def body(self) -> dict:
        current = workflow_version_get(workflow=self.workflow)
        return {"detail": str(self), "current_version": self.workflow.latest_version, "current": workflow_detail(current)}


class WorkflowInvalid(Invalid):
    """The version cannot be rendered or run; `errors` says why."""

    def __init__(self, errors: list[GraphError]):
        self.errors = errors
        super().__init__(f"The workflow has {len(errors)} problem(s); fix them first.")

    def body(self) -> dict:
        return {"detail": str(self), "errors": [error.as_dict() for error in self.errors]}


def _version_create(*, workflow: Workflow, number: int, graph: dict, user) -> WorkflowVersion:
    # Normalized once, here: every reader of a stored graph finds each optional field present.
    graph = graph_normalize(graph)
    pinned = latest_versions(tenant=workflow.tenant, names={n["notebook"] for n in graph["nodes"]})
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=number, graph=graph,
        notebook_pins={name: {"version": v.number, "sha256": v.sha256} for name, v in pinned.items()},
        # Validated once, here, against what it pins: reads use what is kept.
        validation={**version_validation(graph=graph, notebooks={name: v.parameters for name, v in pinned.items()}),
                    "notebooks_deleted": workflow.tenant.notebooks_deleted},
        created_by=user if user and user.is_authenticated else None,
    )
    workflow.name = graph["name"]
    workflow.latest_version = number
    workflow.save(update_fields=["name", "latest_version", "updated_at"])
    record(Action.WORKFLOW_SAVED if number > 1 else Action.WORKFLOW_CREATED, tenant=workflow.tenant, obj=workflow,
           before={"version": number - 1} if number > 1 else None,
           after={"version": number, "name": workflow.name, "nodes": len(graph["nodes"])})
    return version


@transaction.atomic
def workflow_create(*, tenant: Tenant, graph: dict, user=None) -> WorkflowVersion:
    """Create a workflow with its first version. Invalid graphs are kept as drafts."""
    workflow = Workflow.objects.create(tenant=tenant, name=graph["name"])
    return _version_create(workflow=workflow, number=1, graph=graph, user=user)


def workflow_update(*, workflow: Workflow, graph: dict, base_version: int, user=None) -> WorkflowVersion:
    """Save a new version on top of `base_version`; StaleVersion if someone saved in between."""
    try:
        with transaction.atomic():
            # The row lock makes concurrent saves queue here (PostgreSQL); SQLite's IMMEDIATE
            # transactions serialize them; the unique (workflow, number) constraint backs both.
            current = Workflow.objects.select_for_update().get(pk=workflow.pk)
            if current.latest_version != base_version:
                raise StaleVersion(current)
            return _version_create(workflow=current, number=base_version + 1, graph=graph, user=user)
    except IntegrityError:
        workflow.refresh_from_db()
        raise StaleVersion(workflow)


@transaction.atomic
def workflow_delete(*, workflow: Workflow) -> None:
    record(Action.WORKFLOW_DELETED, tenant=workflow.tenant, obj=workflow,
           before={"version": workflow.latest_version, "name": workflow.name})
    workflow.delete()


def workflow_version_runnable(*, version: WorkflowVersion) -> WorkflowVersion:
    """The version, to render or run; WorkflowInvalid with every problem if it fails validation."""
    errors = workflow_version_errors(version=version)
    if errors:
        raise WorkflowInvalid(errors)
    return version
