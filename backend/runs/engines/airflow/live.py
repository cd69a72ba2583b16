"""A task's log, read from Airflow when Loom's log endpoint asks for it (runs/views_history.py):
while the task runs, what the notebook printed so far (the DAG's task prints it as it comes:
dags/airflow_tasks.py); once it succeeded, its whole log, which the mirror leaves in Airflow (it
takes a successful task's result from the artifacts folder: logs.py), read the first time it is
asked for and stored on the row."""
import logging

from catalog.text import nul_replace
from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from loom.errors import UpstreamFailed
from runs.engines import EngineUnavailable
from runs.engines.airflow.logs import log_read
from runs.engines.airflow.states import dag_id
from runs.models import ACTIVE, NodeRun, Run, Status

log = logging.getLogger(__name__)


def airflow_log(*, run: Run, row: NodeRun) -> str:
    """The log of a node run of an Airflow run. EngineUnavailable (503) when it is still only in
    Airflow and Airflow cannot be reached; UpstreamFailed (502) when Airflow no longer has it."""
    if row.status in ACTIVE:
        return _live(run, row) or row.log
    if not _log_in_airflow(run, row):
        return row.log
    failed = f"Loom could not read the log of {row} from Airflow (DAG run {row.external_id}):"
    try:
        logged = _task_log(airflow_client(), run, row, row.external_id)
    except AirflowUnavailable as e:
        raise EngineUnavailable(f"The log of {row} is still in Airflow, which Loom cannot reach now; try again "
                                f"when it answers. {e}") from e
    except AirflowError as e:
        raise UpstreamFailed(f"{failed} {e}") from e
    if not logged["read"]:
        raise UpstreamFailed(f"{failed} {logged['text'].strip()}")
    text, _ = nul_replace(logged["text"])  # PostgreSQL refuses NUL, as where the mirror stores a log
    # Over no log only: a repair that reset the row meanwhile keeps its own.
    NodeRun.objects.filter(pk=row.pk, status=Status.SUCCESS, log="", external_id=row.external_id).update(log=text)
    return text


def _log_in_airflow(run: Run, row: NodeRun) -> bool:
    """A task that succeeded and whose log the mirror left in Airflow. A fanned-out node's own row
    has no task (its items do)."""
    fanned_out = row.map_index is None and any(n["id"] == row.node and n["map_over"]
                                               for n in run.version.graph["nodes"])
    return row.status == Status.SUCCESS and not row.log and bool(row.external_id) and not fanned_out


def _live(run: Run, row: NodeRun) -> str | None:
    """The running task's log as Airflow has it now; None when Airflow cannot say (unreachable, no try yet)."""
    if not run.external_id:
        return None
    try:
        return _task_log(airflow_client(), run, row, run.external_id)["text"]
    except (AirflowError, AirflowUnavailable) as e:
        log.info("the live log of %s in run %s: %s", row, run.pk, e)
        return None


def _task_log(client, run: Run, row: NodeRun, dag_run_id: str) -> dict:
    """log_read's {text, events, read} of the last try of the row's task in DAG run `dag_run_id`."""
    dag = dag_id(run)
    if row.map_index is None:
        ti = client.task_instances.get_task_instance(dag, dag_run_id, row.node)
    else:
        ti = client.task_instances.get_mapped_task_instance(dag, dag_run_id, row.node, row.map_index)
    return log_read(client, dag, dag_run_id, ti)
