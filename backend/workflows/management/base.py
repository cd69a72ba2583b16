"""The base of commands that act on one version of one workflow: `<tenant> <workflow> [--version N]`."""
from django.core.management.base import BaseCommand, CommandError

from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import workflow_version_get
from workflows.services import WorkflowInvalid


class WorkflowVersionCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version N` names a workflow version here, in place of Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("workflow", help="workflow id, or its name")
        parser.add_argument("--version", type=int, default=None, help="version number (default: the latest)")

    def workflow_get(self, tenant: str, workflow: str) -> Workflow:
        """The tenant's workflow named by id or name; CommandError naming what is missing."""
        from tenancy.models import Tenant

        if not Tenant.objects.filter(slug=tenant).exists():
            raise CommandError(f"No tenant '{tenant}'.")
        found = Workflow.objects.filter(tenant__slug=tenant)
        found = found.filter(pk=int(workflow)) if workflow.isdigit() else found.filter(name=workflow)
        if len(found) != 1:
            raise CommandError(f"Tenant '{tenant}' has {'no' if not found else 'more than one'} workflow '{workflow}'.")
        return found[0]

    def version_get(self, workflow: Workflow, number: int | None) -> WorkflowVersion:
        """The workflow's version `number` (the latest if None); CommandError when there is none."""
        try:
            return workflow_version_get(workflow=workflow, number=number)
        except WorkflowVersion.DoesNotExist as e:
            raise CommandError(str(e))

    def invalid(self, error: WorkflowInvalid) -> CommandError:
        """A CommandError listing every problem of an invalid version."""
        problems = "\n".join(f"  {e.node or 'workflow'} / {e.field}: {e.message}" for e in error.errors)
        return CommandError(f"{error}\n{problems}")
