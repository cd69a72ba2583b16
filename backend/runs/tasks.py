"""The Celery tasks of runs: each takes ids and calls one function of an engine. Engines send
them by name (runs.engines.task_send and the names there)."""
from celery import shared_task

from deployments.client import AirflowError, AirflowUnavailable
from runs.engines import AIRFLOW_RUN_CANCEL, AIRFLOW_RUN_SUBMIT, NODE_RUN_EXECUTE
from runs.engines import executing
from runs.engines.airflow import submit


@shared_task(name=NODE_RUN_EXECUTE, ignore_result=True)
def node_run_execute_task(node_run_id: int, token: str) -> None:
    """Run one attempt of a node run (a stale or duplicate message does nothing)."""
    executing.node_run_execute(node_run_id=node_run_id, token=token)


@shared_task(name=AIRFLOW_RUN_SUBMIT, ignore_result=True)
def airflow_run_submit_task(run_id: int) -> None:
    """Deploy the run's version to Airflow if needed, then trigger its DAG run."""
    submit.airflow_run_submit(run_id=run_id)


@shared_task(name=AIRFLOW_RUN_CANCEL, ignore_result=True, autoretry_for=(AirflowUnavailable, AirflowError),
             retry_backoff=2, retry_backoff_max=60, max_retries=120)
def airflow_run_cancel_task(run_id: int) -> None:
    """Fail the DAG run of a cancelled run in Airflow; tried again while Airflow does not answer."""
    submit.airflow_run_cancel(run_id=run_id)
