from celery import shared_task

from deployments import airflow_sync


@shared_task(name="deployments.airflow_tenant_sync", ignore_result=True)
def airflow_tenant_sync_task(tenant_id: int) -> None:
    """Bring the tenant's connections and pool in Airflow up to date."""
    airflow_sync.airflow_tenant_sync(tenant_id=tenant_id)
