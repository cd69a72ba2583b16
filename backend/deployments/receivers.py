"""Keep Airflow in step with Loom when rows change outside the deploy service: a deleted
workflow (or tenant) takes its DAG along; a changed connection or quota reaches Airflow's
connections and pool of a tenant that has deployments. The work runs after the commit."""
import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from deployments.client import airflow_config_problem
from deployments.files import deployment_files_remove
from deployments.models import Deployment
from deployments.services import airflow_dag_delete
from tenancy.models import Connection, Tenant

log = logging.getLogger(__name__)


@receiver(post_delete, sender=Deployment)
def deployment_deleted(sender, instance: Deployment, **kwargs) -> None:
    if instance.engine != "airflow":
        return
    dag_id = instance.dag_id

    def remove():
        try:
            deployment_files_remove(dag_id=dag_id)
            if not airflow_config_problem():
                airflow_dag_delete(dag_id=dag_id)
        except Exception:  # noqa: BLE001 - the row is gone either way; say what was left behind
            log.exception("could not remove %s from Airflow", dag_id)

    transaction.on_commit(remove)


@receiver(post_save, sender=Connection)
@receiver(post_delete, sender=Connection)
def connection_changed(sender, instance: Connection, **kwargs) -> None:
    _tenant_sync_later(instance.tenant_id)


@receiver(post_save, sender=Tenant)
def tenant_changed(sender, instance: Tenant, created: bool, **kwargs) -> None:
    if not created:
        _tenant_sync_later(instance.pk)


def _tenant_sync_later(tenant_id: int) -> None:
    if airflow_config_problem() or not Deployment.objects.filter(tenant_id=tenant_id, engine="airflow").exists():
        return
    from deployments.tasks import airflow_tenant_sync_task

    transaction.on_commit(lambda: airflow_tenant_sync_task.delay(tenant_id))
