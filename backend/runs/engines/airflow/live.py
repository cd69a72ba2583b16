"""A running task's log, read from Airflow while it runs (the mirror stores the log once the
task ends): what the notebook printed so far, which the DAG's task prints as it comes
(dags/airflow_tasks.py)."""
import logging

from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from runs.engines.airflow.logs import log_read
from runs.engines.airflow.states import dag_id
from runs.models import NodeRun, Run

log = logging.getLogger(__name__)


def airflow_log_live(*, run: Run, row: NodeRun) -> str | None:
    """The task's log as Airflow has it now; None when Airflow cannot say (unreachable, no try yet)."""
    if not run.external_id:
        return None
    try:
        client = airflow_client()
        dag = dag_id(run)
        if row.map_index is None:
            ti = client.task_instances.get_task_instance(dag, run.external_id, row.node)
        else:
            ti = client.task_instances.get_mapped_task_instance(dag, run.external_id, row.node, row.map_index)
        return log_read(client, dag, run.external_id, ti)["text"] if ti.try_number else None
    except (AirflowError, AirflowUnavailable) as e:
        log.info("the live log of %s in run %s: %s", row, run.pk, e)
        return None
