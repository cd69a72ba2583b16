from pathlib import Path

from django.core.management.base import CommandError

from dags.selectors import dag_file_get
from workflows.management.base import WorkflowVersionCommand
from workflows.models import WorkflowVersion
from workflows.services import WorkflowInvalid


class Command(WorkflowVersionCommand):
    help = "Render a workflow version into its Airflow DAG file (stdout, or -o FILE)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")

    def handle(self, *args, tenant, workflow, version, output, **options):
        found = self.workflow_get(tenant, workflow)
        try:
            dag = dag_file_get(workflow=found, number=version)
        except WorkflowVersion.DoesNotExist:
            raise CommandError(f"Workflow '{found.name}' has no version {version}.")
        except WorkflowInvalid as e:
            raise self.invalid(e)
        if output:
            Path(output).write_text(dag.source, encoding="utf-8")
            self.stderr.write(f"Wrote {output} ({dag.filename}, version {dag.version}).")
        else:
            self.stdout.write(dag.source, ending="")
