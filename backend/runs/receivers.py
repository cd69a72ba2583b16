"""What runs does when other apps' rows change (apps that runs depends on send signals rather
than import runs)."""
from django.dispatch import receiver

from deployments.signals import undeploying
from runs.models import ACTIVE, Run
from runs.services import run_cancel


@receiver(undeploying)
def workflow_undeploying(sender, workflow_id: int, **kwargs) -> None:
    """A workflow leaving Airflow: its active Airflow runs are cancelled (their DAG runs failed)."""
    for run in Run.objects.filter(workflow_id=workflow_id, engine="airflow", status__in=ACTIVE):
        run_cancel(run=run)
