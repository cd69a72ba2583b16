"""The Airflow engine: a run is a DAG run of the workflow's deployed DAG, mirrored into Loom's rows.

- start: Airflow must answer (else 503, and nothing is written). After the commit a Celery task
  (`airflow_run_submit`) makes the run's version the deployed one if it is not (deploying it and
  waiting until Airflow has parsed it), then triggers the DAG run `loom-<run id>-<random>` with
  the run's parameters as its conf.
- cancel: the DAG run is set to failed in Airflow, which stops its running tasks.
- repair: the DAG run's failed and upstream_failed task instances, and everything downstream of
  them, are cleared, so that Airflow runs them again in the same DAG run.
- mirroring (`airflow_runs_sync`): every LOOM_AIRFLOW_POLL_S one worker (the holder of a lease)
  asks Airflow for the newest DAG runs of Loom's DAGs (one request: the run states, and runs that
  Airflow started by itself, which become Loom runs) and, per active run, for its task instances
  (one request, mapped ones included). Only a task instance that just finished costs more: its
  XCom (outputs, or the error its task left), its log, and its executed notebook, read from
  LOOM_AIRFLOW_ARTIFACTS_DIR.
"""
import json
import logging
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from airflow_client import client as ac
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from dags import naming
from dags.airflow_tasks import ERROR_XCOM_KEY
from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from deployments.models import Deployment, DeploymentStatus
from deployments.services import DeploymentFailed, deployment_check, deployment_ensure
from runs.artifacts import executed_notebook_read
from runs.engines import EngineUnavailable
from runs.models import ACTIVE, FINISHED, Lease, NodeRun, Run, Status
from workflows.graph import graph_normalize, graph_order, output_names
from workflows.services import WorkflowInvalid

log = logging.getLogger(__name__)

# Airflow's task instance states in Loom's words. A task waiting for its next try is queued, as
# on the local engine.
TI_STATUS = {
    None: Status.QUEUED, "scheduled": Status.QUEUED, "queued": Status.QUEUED, "restarting": Status.QUEUED,
    "up_for_retry": Status.QUEUED, "up_for_reschedule": Status.QUEUED, "deferred": Status.RUNNING,
    "awaiting_input": Status.RUNNING, "running": Status.RUNNING, "success": Status.SUCCESS, "failed": Status.FAILED,
    "skipped": Status.SKIPPED, "upstream_failed": Status.UPSTREAM_FAILED, "removed": Status.SKIPPED,
}
RUN_STATUS = {"queued": Status.QUEUED, "running": Status.RUNNING, "success": Status.SUCCESS, "failed": Status.FAILED}
POLL_LEASE = "airflow-poll"
PAGE = 100
# A triggered DAG run not (yet) listed by Airflow this long after the run's creation is gone.
TRIGGER_GRACE = timedelta(seconds=60)


class AirflowEngine:
    name = "airflow"

    def __init__(self):
        self.client = airflow_client()  # AirflowUnavailable (503) when this installation has no Airflow

    def start(self, *, run: Run) -> None:
        self.client.check()
        _submit_later(run.pk)

    def cancel(self, *, run: Run) -> None:
        """Fail the DAG run in Airflow. Not triggered yet: the submit task finds the run cancelled."""
        if not run.external_id:
            return
        try:
            self.client.dag_runs.patch_dag_run(_dag_id(run), run.external_id, ac.DAGRunPatchBody(state="failed"),
                                               update_mask=["state"])
        except AirflowError as e:
            if e.status != 404:
                raise EngineUnavailable(f"Airflow did not fail DAG run {run.external_id}: {e}") from e

    def repair(self, *, run: Run) -> None:
        """Clear what failed, and its downstream, in the same DAG run; a run that never reached
        Airflow (its deploy failed, say) is submitted again."""
        try:
            if run.external_id:
                self.client.task_instances.post_clear_task_instances(_dag_id(run), ac.ClearTaskInstancesBody(
                    dag_run_id=run.external_id, only_failed=True, include_downstream=True, dry_run=False,
                    reset_dag_runs=True))
                return
        except AirflowError as e:
            if e.status != 404:
                raise EngineUnavailable(f"Airflow did not clear DAG run {run.external_id}: {e}") from e
        _submit_later(run.pk)


def _submit_later(run_id: int) -> None:
    from runs.tasks import airflow_run_submit_task

    transaction.on_commit(lambda: airflow_run_submit_task.delay(run_id))


def _dag_id(run: Run) -> str:
    return naming.airflow_dag_id(tenant=run.tenant.slug, workflow_id=run.workflow_id)


# --- submitting -------------------------------------------------------------------------------

def airflow_run_submit(*, run_id: int) -> None:
    """Deploy the run's version if it is not the deployed one, then trigger the DAG run.
    A failure (Airflow unreachable, an import error) fails the run, saying why."""
    run = Run.objects.select_related("tenant", "version", "workflow").get(pk=run_id)
    if run.status not in ACTIVE:
        return
    engine = AirflowEngine()
    try:
        deployment_ensure(workflow=run.workflow, number=run.version.number)
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("tenant", "version", "workflow").get(pk=run_id)
            if run.status not in ACTIVE:
                return
            if not run.external_id:
                # Known before Airflow is asked, so the mirror never takes it for a run Airflow started.
                run.external_id = f"loom-{run.pk}-{uuid.uuid4().hex[:6]}"
                run.save(update_fields=["external_id"])
        try:
            engine.client.dag_runs.trigger_dag_run(_dag_id(run), ac.TriggerDAGRunPostBody(
                dag_run_id=run.external_id, conf=run.parameters, note=f"Loom run {run.pk}"))
        except AirflowError as e:
            if e.status != 409:  # 409: this DAG run exists already (a repeated message)
                raise
        if Run.objects.filter(pk=run.pk, status=Status.CANCELLED).exists():
            engine.cancel(run=run)  # cancelled while it was being triggered
    except (DeploymentFailed, AirflowUnavailable, AirflowError, WorkflowInvalid) as e:
        _run_fail(run_id, str(e))


def _run_fail(run_id: int, message: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE:
            return
        run.node_runs.filter(status__in=ACTIVE).update(status=Status.UPSTREAM_FAILED, ended_at=now)
        run.status, run.error, run.ended_at = Status.FAILED, message, now
        run.save(update_fields=["status", "error", "ended_at"])


# --- mirroring --------------------------------------------------------------------------------

def airflow_poll(*, holder: str) -> bool:
    """One round of `airflow_runs_sync`, if `holder` holds the poll lease (so that of several
    workers only one polls). True when it polled."""
    close_old_connections()
    if not lease_take(POLL_LEASE, holder=holder, ttl=timedelta(seconds=3 * settings.LOOM_AIRFLOW_POLL_S + 10)):
        return False
    airflow_runs_sync()
    return True


def lease_take(name: str, *, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`, unless another holder's is still valid."""
    now = timezone.now()
    if not Lease.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                Lease.objects.create(name=name, holder=holder, expires_at=now + ttl)
            return True
        except IntegrityError:
            pass
    mine = Lease.objects.filter(name=name, holder=holder) | Lease.objects.filter(name=name, expires_at__lt=now)
    return mine.update(holder=holder, expires_at=now + ttl) == 1


def airflow_runs_sync() -> None:
    """Mirror Airflow into Loom once: finish pending deploys, import the DAG runs Airflow started by
    itself, and bring every active Airflow run of Loom up to date."""
    for deployment in Deployment.objects.filter(status=DeploymentStatus.DEPLOYING).select_related("tenant"):
        try:
            deployment_check(deployment=deployment)
        except Exception:  # noqa: BLE001 - one deployment's trouble must not stop the mirror
            log.exception("checking %s failed", deployment.dag_id)
    # Taken before Airflow is asked: a run repaired after this point waits for the next round,
    # so a state read before its repair never overwrites it.
    active = dict(Run.objects.filter(engine="airflow", status__in=ACTIVE).exclude(external_id="")
                  .values_list("pk", "status"))
    deployments = {d.dag_id: d for d in Deployment.objects.select_related("tenant", "workflow", "version")}
    if not active and not deployments:
        return
    client = airflow_client()
    recent = client.dag_runs.get_dag_runs("~", dag_id_prefix_pattern=f"{naming.PREFIX}__", order_by=["-id"],
                                          limit=PAGE).dag_runs
    dag_runs = {(r.dag_id, r.dag_run_id): r for r in recent}
    active.update(_runs_import(recent, deployments))
    for pk, status in active.items():
        try:
            _run_sync(client, pk, status, dag_runs)
        except Exception:  # noqa: BLE001 - one run's trouble must not stop the others
            log.exception("mirroring run %s from Airflow failed", pk)


def _runs_import(dag_runs: list, deployments: dict) -> dict:
    """Loom runs for the DAG runs of deployed workflows that Loom did not trigger (a schedule, a
    trigger in Airflow's UI), pinned to the deployed version. Returns {run id: status}."""
    # Queued since the workflow was first deployed (a scheduled run's run_after is its interval's end,
    # which can be earlier); older ones are history from before Loom (a slack for the clocks).
    mine = [r for r in dag_runs if r.dag_id in deployments
            and (r.queued_at or r.run_after) >= deployments[r.dag_id].created_at - timedelta(seconds=60)]
    known = set(Run.objects.filter(engine="airflow", external_id__in=[r.dag_run_id for r in mine])
                .values_list("workflow_id", "external_id"))
    created = {}
    for r in mine:
        deployment = deployments[r.dag_id]
        if (deployment.workflow_id, r.dag_run_id) in known:
            continue
        graph = graph_normalize(deployment.version.graph)
        globals_ = {p["name"] for p in graph["parameters"]}
        status = RUN_STATUS.get(_value(r.state), Status.QUEUED)
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    tenant=deployment.tenant, workflow=deployment.workflow, version=deployment.version, engine="airflow",
                    status=Status.QUEUED if status in FINISHED else status, external_id=r.dag_run_id,
                    parameters={k: v for k, v in (r.conf or {}).items() if k in globals_}, started_at=r.start_date,
                )
                NodeRun.objects.bulk_create([NodeRun(run=run, node=nid) for nid in graph_order(graph)])
        except IntegrityError:
            continue
        log.info("run %s mirrors DAG run %s of %s, which Airflow started", run.pk, r.dag_run_id, r.dag_id)
        created[run.pk] = run.status
    return created


def _run_sync(client, pk: int, status: str, dag_runs: dict) -> None:
    run = Run.objects.select_related("tenant", "version").get(pk=pk)
    dag_id = _dag_id(run)
    dag_run = dag_runs.get((dag_id, run.external_id))
    if dag_run is None:
        try:
            dag_run = client.dag_runs.get_dag_run(dag_id, run.external_id)
        except AirflowError as e:
            if e.status != 404:
                raise
            if timezone.now() - run.created_at > TRIGGER_GRACE:
                _run_fail(pk, f"Airflow has no DAG run {run.external_id} of {dag_id} (any more).")
            return
    tis = _task_instances(client, dag_id, run.external_id)
    rows = {(r.node, r.map_index): (r.status, r.attempts) for r in run.node_runs.only("node", "map_index", "status", "attempts")}
    nodes = {n["id"]: n for n in graph_normalize(run.version.graph)["nodes"]}
    details = {}
    for ti in tis:
        status_now = TI_STATUS.get(_value(ti.state), Status.QUEUED)
        key = _row_key(ti, nodes)
        if ti.task_id.endswith(naming.ITEMS_SUFFIX):
            # Only a failed list matters (it fails the node); the node's row shows its items otherwise.
            fetch = status_now == Status.FAILED and rows.get(key, ("",))[0] != Status.FAILED
        else:
            fetch = status_now in FINISHED and rows.get(key) != (status_now, _attempts(ti))
        if fetch:
            details[(ti.task_id, ti.map_index)] = _finished_details(client, run, dag_id, ti, status_now, nodes)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("tenant", "version").get(pk=pk)
        if run.status != status:
            return  # cancelled (or changed otherwise) while Airflow was asked: next round
        _apply(run, dag_run, tis, details, nodes)


def _task_instances(client, dag_id: str, run_id: str) -> list:
    """Every task instance of the DAG run, mapped ones included: one request for up to PAGE."""
    found, offset = [], 0
    while True:
        page = client.task_instances.get_task_instances(dag_id, run_id, limit=PAGE, offset=offset)
        found += page.task_instances
        offset += len(page.task_instances)
        if not page.task_instances or offset >= page.total_entries:
            return found


def _row_key(ti, nodes: dict) -> tuple:
    """The node row a task instance mirrors: (node, map_index), or (node, None) for the node itself."""
    node = ti.task_id.removesuffix(naming.ITEMS_SUFFIX)
    if ti.task_id.endswith(naming.ITEMS_SUFFIX) or ti.map_index < 0:
        return node, None
    return node, ti.map_index


def _attempts(ti) -> int:
    """Tries made so far: Airflow counts a try from when it is scheduled, Loom from when it runs."""
    state = _value(ti.state)
    return max(0, (ti.try_number or 0) - (1 if state in ("scheduled", "queued") else 0))


def _finished_details(client, run: Run, dag_id: str, ti, status: str, nodes: dict) -> dict:
    """What a finished task instance left: its log, outputs (success) or error, executed notebook."""
    logged = _log(client, dag_id, run.external_id, ti)
    detail = {"log": logged["text"]}
    items_task = ti.task_id.endswith(naming.ITEMS_SUFFIX)
    if status == Status.SUCCESS and not items_task:
        detail["outputs"] = _xcom(client, dag_id, run.external_id, ti, "return_value") or {}
    if status == Status.FAILED:
        error = None if items_task else _xcom(client, dag_id, run.external_id, ti, ERROR_XCOM_KEY)
        detail["error"] = error if isinstance(error, dict) else _log_error(logged["events"], ti)
    if not items_task and ti.task_id in nodes and (ti.try_number or 0) > 0:
        index = [str(ti.map_index)] if ti.map_index >= 0 else []
        executed = executed_notebook_read(tenant=run.tenant.slug, parts=[
            dag_id, run.external_id, ti.task_id, *index, Path(nodes[ti.task_id]["notebook"]).name])
        if executed is not None:
            detail["notebook"] = executed
    return detail


def _xcom(client, dag_id: str, run_id: str, ti, key: str):
    try:
        entry = client.xcoms.get_xcom_entry(dag_id, ti.task_id, run_id, key, map_index=ti.map_index)
    except AirflowError as e:
        if e.status == 404:
            return None
        raise
    return getattr(entry.actual_instance, "value", None)


def _log(client, dag_id: str, run_id: str, ti) -> dict:
    """The task's log for its last try, as text, and its structured events (for the error)."""
    if not ti.try_number:
        return {"text": "", "events": []}
    response = client.task_instances.get_log_without_preload_content(
        dag_id, run_id, ti.task_id, ti.try_number, full_content=True, map_index=ti.map_index, accept="application/json")
    if response.status != 200:
        return {"text": f"(Airflow answered {response.status} for the log)", "events": []}
    try:
        events = json.loads(response.data).get("content") or []
    except ValueError:
        return {"text": response.data.decode("utf-8", "replace"), "events": []}
    events = [e if isinstance(e, dict) else {"event": str(e)} for e in events]
    lines = []
    for e in events:
        stamp = e.get("timestamp", "")
        prefix = f"[{stamp[11:19]}] {e.get('level', '').upper():7} " if stamp else ""
        lines.append(f"{prefix}{e.get('event', '')}")
        for err in e.get("error_detail") or []:
            lines.append(f"    {err.get('exc_type')}: {err.get('exc_value')}")
    return {"text": "\n".join(lines) + "\n", "events": events}


def _log_error(log_json: list, ti) -> dict:
    """The error of a task that left none in XCom (Airflow's timeout, a crash): its exception."""
    for e in reversed(log_json):
        for err in e.get("error_detail") or []:
            frames = "".join(f'  File "{f.get("filename")}", line {f.get("lineno")}, in {f.get("name")}\n'
                             for f in err.get("frames") or [])
            return {"message": f"{err.get('exc_type')}: {err.get('exc_value')}", "cell_index": None, "cell_source": "",
                    "traceback": f"Traceback (most recent call last):\n{frames}{err.get('exc_type')}: {err.get('exc_value')}"}
    return {"message": f"Task {ti.task_id} failed in Airflow (try {ti.try_number}); see its log.",
            "cell_index": None, "cell_source": "", "traceback": ""}


def _apply(run: Run, dag_run, tis: list, details: dict, nodes: dict) -> None:
    """Write what Airflow says into the run's rows (called holding the run row)."""
    rows = {(r.node, r.map_index): r for r in run.node_runs.all()}
    items_of = defaultdict(list)
    items_task = {}
    for ti in tis:
        node, map_index = _row_key(ti, nodes)
        if node not in nodes:
            continue  # a task of another version of the DAG
        detail = details.get((ti.task_id, ti.map_index))
        if ti.task_id.endswith(naming.ITEMS_SUFFIX):
            items_task[node] = (ti, detail)
            continue
        if map_index is not None:
            items_of[node].append(ti.map_index)
            row = rows.get((node, map_index)) or NodeRun(run=run, node=node, map_index=map_index)
            rows[(node, map_index)] = row
            _row_update(row, ti, detail)
        elif not nodes[node]["map_over"] or not any(k[0] == node and k[1] is not None for k in rows):
            _row_update(rows[(node, None)], ti, detail)

    for nid, node in nodes.items():
        if not node["map_over"]:
            continue
        summary = rows[(nid, None)]
        live = set(items_of[nid])
        for key in [k for k in rows if k[0] == nid and k[1] is not None and k[1] not in live]:
            if rows[key].pk:
                rows[key].delete()  # an item Airflow no longer has (the list changed on a repair)
            del rows[key]
        items = sorted((rows[(nid, i)] for i in live), key=lambda r: r.map_index)
        ti, detail = items_task.get(nid, (None, None))
        if items:
            _summarize(summary, items, node)
        elif ti is not None and TI_STATUS.get(_value(ti.state)) in (Status.FAILED, Status.UPSTREAM_FAILED):
            _row_update(summary, ti, detail)  # the list could not be made: the node did not run
        summary.save()

    state = RUN_STATUS.get(_value(dag_run.state), Status.QUEUED)
    run.started_at = run.started_at or dag_run.start_date
    if state in FINISHED:
        bad = [r for (node, i), r in rows.items()
               if i is None and r.status in (Status.FAILED, Status.UPSTREAM_FAILED, Status.CANCELLED)]
        for r in rows.values():
            if r.status in ACTIVE:  # never started, and never will in this DAG run
                r.status, r.ended_at = Status.SKIPPED, dag_run.end_date
                r.save()
        run.error = f"Did not succeed: {', '.join(f'{r.node} ({r.status})' for r in bad)}." if bad else ""
        if state == Status.FAILED and not bad:
            run.error = "Airflow failed the DAG run."
        run.ended_at = dag_run.end_date or timezone.now()
    run.status = state
    run.save(update_fields=["status", "started_at", "ended_at", "error"])


def _row_update(row: NodeRun, ti, detail: dict | None) -> None:
    status = TI_STATUS.get(_value(ti.state), Status.QUEUED)
    row.status, row.attempts = status, _attempts(ti)
    row.started_at = ti.start_date
    row.ended_at = ti.end_date if status in FINISHED else None
    if status not in FINISHED:
        row.outputs = {}
    if detail is not None:
        row.log = detail["log"]
        row.outputs = detail.get("outputs", {})
        row.error = detail.get("error")
        row.notebook = detail.get("notebook", row.notebook)
    elif status == Status.SUCCESS:
        row.error = None
    row.save()


def _summarize(row: NodeRun, items: list[NodeRun], node: dict) -> None:
    """A fanned-out node's own row from its items, as on the local engine."""
    statuses = [i.status for i in items]
    row.attempts = max(i.attempts for i in items)
    row.started_at = min((i.started_at for i in items if i.started_at), default=None)
    if any(s in ACTIVE for s in statuses):
        row.status = Status.RUNNING if any(s != Status.QUEUED for s in statuses) else Status.QUEUED
        row.outputs, row.error, row.ended_at = {}, None, None
        return
    failed = [i for i in items if i.status != Status.SUCCESS]
    row.status = Status.FAILED if failed else Status.SUCCESS
    row.ended_at = max((i.ended_at for i in items if i.ended_at), default=None)
    row.outputs = {} if failed else {name: [i.outputs.get(name) for i in items] for name in output_names(node)}
    row.error = None if not failed else {
        "message": f"{len(failed)} of {len(items)} items did not succeed: "
                   + ", ".join(f"[{i.map_index}] {i.status}" for i in failed[:20]),
        "cell_index": None, "cell_source": "", "traceback": "",
    }


def _value(state):
    return getattr(state, "value", state)
