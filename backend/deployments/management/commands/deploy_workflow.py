from django.core.management.base import BaseCommand, CommandError

from deployments import services
from deployments.client import AirflowError, AirflowUnavailable
from deployments.models import Deployment, DeploymentStatus
from tenancy.models import Tenant
from workflows.models import Workflow, WorkflowVersion
from workflows.services import WorkflowInvalid


class Command(BaseCommand):
    help = ("Deploy a workflow version to Airflow and wait until Airflow has parsed it "
            "(or undeploy it with --undeploy). Needs LOOM_AIRFLOW_URL and LOOM_AIRFLOW_DAGS_DIR.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version N` names a workflow version here, in place of Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("workflow", help="workflow id, or its name")
        parser.add_argument("--version", type=int, default=None, help="version number (default: the latest)")
        parser.add_argument("--undeploy", action="store_true", help="pause the DAG and remove it from Airflow")

    def handle(self, *args, tenant, workflow, version, undeploy, **options):
        found = Workflow.objects.filter(tenant__slug=tenant)
        if not Tenant.objects.filter(slug=tenant).exists():
            raise CommandError(f"No tenant '{tenant}'.")
        found = found.filter(pk=int(workflow)) if workflow.isdigit() else found.filter(name=workflow)
        if len(found) != 1:
            raise CommandError(f"Tenant '{tenant}' has {'no' if not found else 'more than one'} workflow '{workflow}'.")
        try:
            if undeploy:
                return self._undeploy(found[0])
            deployment = services.deployment_deploy(workflow=found[0], number=version)
            self.stderr.write(f"Wrote {deployment.dag_id} (version {deployment.version.number}); waiting for Airflow...")
            deployment = services.deployment_wait(deployment=deployment)
        except (AirflowUnavailable, AirflowError) as e:
            raise CommandError(str(e))
        except WorkflowVersion.DoesNotExist:
            raise CommandError(f"Workflow '{found[0].name}' has no version {version}.")
        except WorkflowInvalid as e:
            problems = "\n".join(f"  {err.node or 'workflow'} / {err.field}: {err.message}" for err in e.errors)
            raise CommandError(f"{e}\n{problems}")
        if deployment.status != DeploymentStatus.DEPLOYED:
            raise CommandError(f"Airflow did not take {deployment.dag_id}:\n{deployment.error}")
        self.stdout.write(f"{deployment.dag_id}: version {deployment.version.number} deployed and unpaused; "
                          f"Airflow parsed it {deployment.parse_seconds:.1f} s after the file was written.")

    def _undeploy(self, workflow: Workflow) -> None:
        try:
            deployment = Deployment.objects.get(workflow=workflow)
        except Deployment.DoesNotExist:
            raise CommandError(f"Workflow '{workflow.name}' is not deployed.")
        services.deployment_undeploy(deployment=deployment)
        self.stdout.write(f"{deployment.dag_id}: paused and removed from Airflow.")
