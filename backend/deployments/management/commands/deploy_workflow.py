from django.core.management.base import CommandError

from deployments import services
from deployments.client import AirflowError, AirflowUnavailable
from deployments.models import Deployment, DeploymentStatus
from workflows.management.base import WorkflowVersionCommand
from workflows.models import Workflow
from workflows.services import WorkflowInvalid


class Command(WorkflowVersionCommand):
    help = ("Deploy a workflow version to Airflow and wait until Airflow has parsed it "
            "(or undeploy it with --undeploy). Needs LOOM_AIRFLOW_URL and LOOM_AIRFLOW_DAGS_DIR.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--undeploy", action="store_true", help="pause the DAG and remove it from Airflow")

    def handle(self, *args, tenant, workflow, version, undeploy, **options):
        found = self.workflow_get(tenant, workflow)
        try:
            if undeploy:
                return self._undeploy(found)
            deployment = services.deployment_deploy(version=self.version_get(found, version))
            self.stderr.write(f"Wrote {deployment.dag_id} (version {deployment.version.number}); waiting for Airflow...")
            deployment = services.deployment_wait(deployment=deployment)
        except (AirflowUnavailable, AirflowError) as e:
            raise CommandError(str(e))
        except WorkflowInvalid as e:
            raise self.invalid(e)
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
