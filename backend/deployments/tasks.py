from celery import shared_task

from deployments import services


@shared_task(name="deployments.airflow_tenant_sync", ignore_result=True)
def airflow_tenant_sync_task(tenant_id: int) -> None:
    """Bring the tenant's connections and pool in Airflow up to date."""
    services.airflow_tenant_sync(tenant_id=tenant_id)
