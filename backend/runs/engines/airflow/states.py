"""How the Airflow engine reads Airflow: its states in Loom's words, which row a task instance
mirrors, and the DAG id of a run."""
from dags import naming
from runs.models import Status

# Airflow's task instance states in Loom's words. A task waiting for its next try is queued, as
# on the local engine.
TI_STATUS = {
    None: Status.QUEUED, "scheduled": Status.QUEUED, "queued": Status.QUEUED, "restarting": Status.QUEUED,
    "up_for_retry": Status.QUEUED, "up_for_reschedule": Status.QUEUED, "deferred": Status.RUNNING,
    "awaiting_input": Status.RUNNING, "running": Status.RUNNING, "success": Status.SUCCESS, "failed": Status.FAILED,
    "skipped": Status.SKIPPED, "upstream_failed": Status.UPSTREAM_FAILED, "removed": Status.SKIPPED,
}
# A DAG run's state says only whether Airflow still works on it: Loom decides the outcome itself
# from the node rows (runs.bookkeeping.run_outcome), as Airflow's looks at leaf tasks only.
RUN_STATUS = {"queued": Status.QUEUED, "running": Status.RUNNING, "success": Status.SUCCESS, "failed": Status.FAILED}


def dag_id(run) -> str:
    """The DAG id of the run's workflow in Airflow."""
    return naming.airflow_dag_id(tenant=run.tenant.slug, workflow_id=run.workflow_id)


def state(value):
    """An Airflow state (an enum of the client, or None) as its string."""
    return getattr(value, "value", value)


def ti_status(ti) -> str:
    return TI_STATUS.get(state(ti.state), Status.QUEUED)


def row_key(ti, nodes: dict) -> tuple:
    """The node row a task instance mirrors: (node, map_index), or (node, None) for the node itself."""
    node = ti.task_id.removesuffix(naming.ITEMS_SUFFIX)
    if ti.task_id.endswith(naming.ITEMS_SUFFIX) or ti.map_index < 0:
        return node, None
    return node, ti.map_index


def attempts(ti) -> int:
    """Tries made so far: Airflow counts a try from when it is scheduled, Loom from when it runs."""
    return max(0, (ti.try_number or 0) - (1 if state(ti.state) in ("scheduled", "queued") else 0))
