from celery import shared_task

from runs.engines import airflow, local


@shared_task(name="runs.node_run_execute", ignore_result=True)
def node_run_execute_task(node_run_id: int, token: str) -> None:
    """Run one attempt of a node run (a stale or duplicate message does nothing)."""
    local.node_run_execute(node_run_id=node_run_id, token=token)


@shared_task(name="runs.airflow_run_submit", ignore_result=True)
def airflow_run_submit_task(run_id: int) -> None:
    """Deploy the run's version to Airflow if needed, then trigger its DAG run."""
    airflow.airflow_run_submit(run_id=run_id)
