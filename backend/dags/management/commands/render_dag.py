from pathlib import Path

from dags.selectors import dag_file_get
from workflows.management.base import WorkflowVersionCommand
from workflows.services import WorkflowInvalid


class Command(WorkflowVersionCommand):
    help = "Render a workflow version into its Airflow DAG file (stdout, or -o FILE)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")

    def handle(self, *args, tenant, workflow, version, output, **options):
        found = self.version_get(self.workflow_get(tenant, workflow), version)
        try:
            dag = dag_file_get(version=found)
        except WorkflowInvalid as e:
            raise self.invalid(e)
        if output:
            Path(output).write_text(dag.source, encoding="utf-8")
            self.stderr.write(f"Wrote {output} ({dag.filename}, version {dag.version}).")
        else:
            self.stdout.write(dag.source, ending="")
