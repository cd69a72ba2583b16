from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dags.selectors import dag_file_get
from tenancy.models import Tenant
from workflows.models import Workflow, WorkflowVersion
from workflows.services import WorkflowInvalid


class Command(BaseCommand):
    help = "Render a workflow version into its Airflow DAG file (stdout, or -o FILE)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version N` names a workflow version here, in place of Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("workflow", help="workflow id, or its name")
        parser.add_argument("--version", type=int, default=None, help="version number (default: the latest)")
        parser.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")

    def handle(self, *args, tenant, workflow, version, output, **options):
        try:
            owner = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist:
            raise CommandError(f"No tenant '{tenant}'.")
        found = Workflow.objects.filter(tenant=owner)
        found = found.filter(pk=int(workflow)) if workflow.isdigit() else found.filter(name=workflow)
        if len(found) != 1:
            raise CommandError(f"Tenant '{tenant}' has {'no' if not found else 'more than one'} workflow '{workflow}'.")
        try:
            dag = dag_file_get(workflow=found[0], number=version)
        except WorkflowVersion.DoesNotExist:
            raise CommandError(f"Workflow '{found[0].name}' has no version {version}.")
        except WorkflowInvalid as e:
            problems = "\n".join(f"  {err.node or 'workflow'} / {err.field}: {err.message}" for err in e.errors)
            raise CommandError(f"{e}\n{problems}")
        if output:
            Path(output).write_text(dag.source, encoding="utf-8")
            self.stderr.write(f"Wrote {output} ({dag.filename}, version {dag.version}).")
        else:
            self.stdout.write(dag.source, ending="")
