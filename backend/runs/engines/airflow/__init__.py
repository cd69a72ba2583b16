"""The Airflow engine: a run is a DAG run of the workflow's deployed DAG, mirrored into Loom's rows.

- start: Airflow must answer (`check`, else 503 and nothing is written). After the commit a
  Celery task submits the run (submit.py: deploy if needed, trigger the DAG run).
- cancel: after Loom's cancel is committed, the DAG run is set to failed in Airflow, which
  stops its running tasks; while Airflow does not answer, a Celery task keeps trying.
- repair (`rerun`, before Loom resets its rows): Airflow clears, in the same DAG run, the task
  instances of every node the repair reruns (runs.bookkeeping.repair_plan: what did not succeed
  and everything downstream of it); a fanned-out node that keeps its items clears only the
  items that did not succeed. A run that never reached Airflow is submitted again.
- mirroring (mirror.py): one worker at a time brings Loom's rows up to date with Airflow, and
  Loom decides each run's outcome from its node rows by its own rule.

Its files: submit.py (submitting, cancelling, lost submissions), mirror.py (mirroring),
logs.py (what a finished task left: log, XCom, executed notebook), lease.py, states.py.
"""
from airflow_client import client as ac

from dags import naming
from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from runs.engines import AIRFLOW_RUN_CANCEL, EngineUnavailable, task_send
from runs.engines.airflow.states import dag_id
from runs.engines.airflow.submit import dag_run_fail, submission_request
from runs.models import NodeRun, Run, Status


class AirflowEngine:
    name = "airflow"

    def __init__(self):
        try:
            self.client = airflow_client()
        except AirflowUnavailable as e:  # this installation has no Airflow: 503
            raise EngineUnavailable(str(e)) from e
        self._resubmit = False

    def check(self) -> None:
        try:
            self.client.check()
        except AirflowUnavailable as e:
            raise EngineUnavailable(str(e)) from e

    def start(self, *, run: Run) -> None:
        """Submit after the commit: a new run, a repaired one that never reached Airflow, or one whose
        DAG run is gone. A repaired run with a DAG run needs nothing: Airflow reruns what `rerun` cleared."""
        if self._resubmit or not run.external_id:
            submission_request(run)

    def cancel(self, *, run: Run) -> None:
        """Fail the DAG run in Airflow. Not triggered yet: the submit task finds the run cancelled."""
        if not run.external_id:
            return
        try:
            dag_run_fail(run)
        except (AirflowUnavailable, AirflowError):
            task_send(AIRFLOW_RUN_CANCEL, run.pk, countdown=2)  # Loom's cancel stands; Airflow hears it later

    def rerun(self, *, run: Run, plan: dict[str, bool], rows: list[NodeRun], fresh: bool = False) -> None:
        """Clear the task instances of the nodes in `plan` in the same DAG run; on another version
        or with other parameters, a new DAG run instead, whose conf carries the kept outputs."""
        if fresh:
            self._resubmit = True
            return
        if not run.external_id:
            return
        try:
            self.client.task_instances.post_clear_task_instances(dag_id(run), ac.ClearTaskInstancesBody(
                dag_run_id=run.external_id, only_failed=False, include_downstream=False, dry_run=False,
                reset_dag_runs=True, task_ids=[ac.ClearTaskInstancesBodyTaskIdsInner(t) for t in
                                               clear_targets(run.version.graph, plan, rows)]))
        except AirflowUnavailable as e:
            raise EngineUnavailable(str(e)) from e
        except AirflowError as e:
            if e.status != 404:
                raise EngineUnavailable(f"Airflow did not clear DAG run {run.external_id}: {e}") from e
            self._resubmit = True  # the DAG run is gone: trigger it again


def clear_targets(graph: dict, plan: dict[str, bool], rows: list[NodeRun]) -> list:
    """Airflow's task ids for a repair plan: a node's task (all its map indexes) and, for a
    fanned-out node, the task making its list; or [task, map index] for each item to rerun of a
    node that keeps its items."""
    fanned_out = {n["id"] for n in graph["nodes"] if n["map_over"]}
    targets = []
    for nid, keep_items in sorted(plan.items()):
        items = [r for r in rows if r.node == nid and r.map_index is not None]
        if keep_items and items:
            targets += [[nid, i.map_index] for i in items if i.status != Status.SUCCESS]
        else:
            targets += [nid, naming.items_task_id(nid)] if nid in fanned_out else [nid]
    return targets
