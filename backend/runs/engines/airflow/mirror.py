"""Mirroring Airflow into Loom's rows (`airflow_runs_sync`).

Every LOOM_AIRFLOW_POLL_S one worker (the holder of a lease) asks Airflow for the newest DAG
runs of Loom's DAGs (one request: the run states, and runs that Airflow started by itself,
which become Loom runs) and, per active run, for its task instances (one request per 100 that
changed, mapped ones included). A task instance that just succeeded costs no more: its result is
read from the shared artifacts folder; one that failed costs its log and its error (logs.py).
Airflow's DAG-run state says only whether Airflow still works on the run: when it is done, Loom
decides the outcome from the node rows (runs.bookkeeping.run_outcome), as the local engine does.

When Airflow does not answer, each active run says so in its `error` ("Airflow unreachable
since ..."), keeps its status, and is mirrored again, the note gone, once Airflow answers.
Airflow is only ever asked outside a database transaction.
"""
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from audit.services import Action, ActorKind, record
from catalog.text import nul_replace
from dags import naming
from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from deployments.models import Deployment, DeploymentStatus
from deployments.services import deployments_check
from runs.bookkeeping import node_summarize, run_outcome
from runs.engines.airflow.lease import lease_take
from runs.engines.airflow.logs import finished_details, xcom_value
from runs.engines.airflow.states import RUN_STATUS, attempts, dag_id, row_key, state, ti_status
from runs.engines.local import node_cache_key, node_inputs
from runs.engines.airflow.submit import run_fail, submission_pending, submissions_check
from runs.models import ACTIVE, FINISHED, NodeRun, Run, Status, Trigger
from runs.signals import run_finished_send
from runtime.parameters import fan_out
from workflows.graph import graph_order
from workflows.models import VERSION_BULK

log = logging.getLogger(__name__)
POLL_LEASE = "airflow-poll"
PAGE = 100  # Airflow's [api] maximum_page_limit by default
# A task instance updated this long before the last listing is listed again: a commit lands a
# little after its updated_at, and the clocks of Airflow's processes differ a little. Each change is
# listed in about slack / LOOM_AIRFLOW_POLL_S polls, so the slack is what a poll of a large
# fan-out costs; the full listing below is the safety net for what it would miss.
UPDATED_SLACK = timedelta(seconds=4)
# A run's task instances are all listed again this often, and once its DAG run has ended, so that
# a change no incremental listing caught is caught then (its row written only if it differs).
FULL_LISTING_EVERY = timedelta(seconds=60)
_seen: dict[int, tuple] = {}  # run pk -> (Airflow's time at the last listing, {(task_id, map_index): task instance}, at the last full one)
UNREACHABLE = "Airflow unreachable since "


def poll_lease_ttl() -> timedelta:
    """How long a poller's turn lasts; the lease's expiry minus this is when it last polled (ops.metrics)."""
    return timedelta(seconds=3 * settings.LOOM_AIRFLOW_POLL_S + 10)


def airflow_poll(*, holder: str) -> bool:
    """One round of `airflow_runs_sync`, if `holder` holds the poll lease (so that of several
    workers only one polls). True when it polled."""
    close_old_connections()
    if not lease_take(POLL_LEASE, holder=holder, ttl=poll_lease_ttl()):
        return False
    airflow_runs_sync()
    return True


def airflow_runs_sync() -> None:
    """Mirror Airflow into Loom once: resend or fail lost submissions, finish pending deploys,
    import the DAG runs Airflow started by itself, and bring every active Airflow run of Loom up
    to date."""
    submissions_check()
    try:
        deployments_check(deployments=Deployment.objects.filter(status=DeploymentStatus.DEPLOYING).select_related("tenant"))
    except AirflowUnavailable:
        pass  # said on each active run below
    except Exception:  # noqa: BLE001 - the deployments' trouble must not stop the mirror
        log.exception("checking the deployments awaiting their parse failed")
    # Taken before Airflow is asked: a run cancelled after this point is left as it is (see _run_sync).
    active = dict(Run.objects.filter(engine="airflow", status__in=ACTIVE).exclude(external_id="")
                  .values_list("pk", "status"))
    # Every deployment, each poll: their versions' graphs only when a run is imported (_runs_import).
    deployments = {d.dag_id: d for d in Deployment.objects.filter(engine="airflow").select_related("tenant", "workflow", "version").defer(*VERSION_BULK)}
    if not active and not deployments:
        return
    client = airflow_client()
    try:
        recent = client.dag_runs.get_dag_runs("~", dag_id_prefix_pattern=f"{naming.PREFIX}__", order_by=["-id"],
                                              limit=PAGE).dag_runs
    except AirflowUnavailable as e:
        _unreachable(list(active), e)
        return
    dag_runs = {(r.dag_id, r.dag_run_id): r for r in recent}
    active.update(_runs_import(recent, deployments))
    for pk, status in active.items():
        try:
            _run_sync(client, pk, status, dag_runs)
        except AirflowUnavailable as e:
            _unreachable([pk], e)
        except Exception:  # noqa: BLE001 - one run's trouble must not stop the others
            log.exception("mirroring run %s from Airflow failed", pk)


def _unreachable(run_ids: list[int], error: AirflowUnavailable) -> None:
    """Say on each active run that Airflow does not answer, since when (a note already there stays)."""
    log.warning("mirroring Airflow: %s", error)
    note = f"{UNREACHABLE}{timezone.now():%Y-%m-%d %H:%M:%S} UTC; Loom mirrors the run again when it answers. {error}"
    Run.objects.filter(pk__in=run_ids, status__in=ACTIVE).exclude(error__startswith=UNREACHABLE).update(error=note)


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
        graph = deployment.version.graph
        globals_ = {p["name"] for p in graph["parameters"]}
        status = RUN_STATUS.get(state(r.state), Status.QUEUED)
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    tenant=deployment.tenant, workflow=deployment.workflow, version=deployment.version, engine="airflow",
                    status=Status.QUEUED if status in FINISHED else status, external_id=r.dag_run_id,
                    parameters={k: v for k, v in (r.conf or {}).items() if k in globals_}, started_at=r.start_date,
                    trigger=_trigger(r), logical_date=r.logical_date or r.run_after,
                    data_interval_start=r.data_interval_start or r.logical_date or r.run_after,
                    data_interval_end=r.data_interval_end or r.logical_date or r.run_after,
                )
                NodeRun.objects.bulk_create([NodeRun(run=run, node=nid) for nid in graph_order(graph)])
                record(Action.RUN_STARTED, tenant=run.tenant, obj=run, actor=_started_by(r), after={
                    "workflow": run.workflow_id, "version": deployment.version.number, "engine": "airflow",
                    "dag_run_id": r.dag_run_id, "parameters": run.parameters})
        except IntegrityError:
            continue
        log.info("run %s mirrors DAG run %s of %s, which Airflow started", run.pk, r.dag_run_id, r.dag_id)
        created[run.pk] = run.status
    return created


def _trigger(dag_run) -> str:
    """What started a DAG run Loom did not trigger: Airflow's schedule, a backfill, else someone in Airflow."""
    kind = getattr(dag_run.run_type, "value", dag_run.run_type)
    return {"scheduled": Trigger.SCHEDULE, "backfill": Trigger.BACKFILL}.get(kind, Trigger.AIRFLOW)


def _started_by(dag_run) -> str:
    """Who started a DAG run Loom did not trigger: Airflow's scheduler, or someone in Airflow."""
    return ActorKind.SCHEDULER if getattr(dag_run.run_type, "value", dag_run.run_type) == "scheduled" else ActorKind.AIRFLOW


def _run_sync(client, pk: int, status: str, dag_runs: dict) -> None:
    run = Run.objects.select_related("tenant", "version").get(pk=pk)
    dag = dag_id(run)
    dag_run = dag_runs.get((dag, run.external_id))
    if dag_run is None:
        try:
            dag_run = client.dag_runs.get_dag_run(dag, run.external_id)
        except AirflowError as e:
            if e.status != 404:
                raise
            if not submission_pending(pk):  # a submission in flight triggers it soon
                run_fail(pk, f"Airflow has no DAG run {run.external_id} of {dag} (any more).")
            return
    tis, changed, seen = _task_instances(client, pk, dag, run.external_id,
                                         ended=RUN_STATUS.get(state(dag_run.state)) in FINISHED)
    rows = {(r.node, r.map_index): (r.status, r.attempts) for r in run.node_runs.only("node", "map_index", "status", "attempts")}
    nodes = {n["id"]: n for n in run.version.graph["nodes"]}
    details = {}
    for ti in tis:
        status_now = ti_status(ti)
        key = row_key(ti, nodes)
        if key[0] not in nodes or key[0] in run.reuse:
            continue  # a check task (its node's row shows its items), a task of another version, or one
            # returning the outputs Loom gave it (_apply leaves those rows as Loom wrote them)
        if ti.task_id.endswith(naming.ITEMS_SUFFIX):
            # Only a failed list matters (it fails the node); the node's row shows its items otherwise.
            fetch = status_now == Status.FAILED and rows.get(key, ("",))[0] != Status.FAILED
        else:
            fetch = status_now in FINISHED and rows.get(key) != (status_now, attempts(ti))
        if fetch:
            details[(ti.task_id, ti.map_index)] = finished_details(client, run, dag, ti, status_now, nodes)
    item_values = _item_values(client, run, dag, tis, rows, nodes)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("tenant", "version").get(pk=pk)
        if run.status != status:
            return  # cancelled (or changed otherwise) while Airflow was asked: next round
        _apply(run, dag_run, tis, details, nodes, item_values, changed)
    if run.status in FINISHED:
        mirror_forget(pk)
    else:
        _seen[pk] = seen  # applied: the next poll asks only for what changed after


def _item_values(client, run: Run, dag: str, tis: list, rows: dict, nodes: dict) -> dict:
    """{node: its list} of the fanned-out nodes whose items all finished just now (one request
    each, once per run): their summary pairs each successful item's outputs with its item."""
    finished = defaultdict(list)
    for ti in tis:
        node, map_index = row_key(ti, nodes)
        if map_index is not None and node in nodes:
            finished[node].append(ti_status(ti) in FINISHED)
    return {node: xcom_value(client, dag, run.external_id, node + naming.ITEMS_SUFFIX)
            for node, done in finished.items() if all(done) and rows.get((node, None), ("",))[0] not in FINISHED}


def _task_instances(client, pk: int, dag: str, run_id: str, *, ended: bool) -> tuple[list, set, tuple]:
    """Every task instance of the DAG run, mapped ones included; the keys of those that changed
    since the last poll; and what to remember once they are applied (`_seen`). A run's first
    poll on this worker lists them all, PAGE per request; later polls only those Airflow updated
    since that listing (updated_at, by Airflow's own clock: its answer's Date), so that a poll
    costs about one request however many items the run has, except every FULL_LISTING_EVERY
    and once the DAG run has `ended`, when all are listed and compared with what was known."""
    since, known, full_at = _seen.get(pk, (None, {}, None))
    full = since is None or ended or full_at is None or since - full_at >= FULL_LISTING_EVERY
    listed, clock = _list(client, dag, run_id, updated_at_gte=None if full else since - UPDATED_SLACK)
    changed = {(ti.task_id, ti.map_index) for ti in listed
               if not full or _fingerprint(known.get((ti.task_id, ti.map_index))) != _fingerprint(ti)}
    known = {**known, **{(ti.task_id, ti.map_index): ti for ti in listed}}
    clock = clock or since
    return list(known.values()), changed, (clock, known, clock if full else full_at)


def _fingerprint(ti) -> tuple | None:
    """What the mirror writes of a task instance: a full listing applies those that differ."""
    if ti is None:
        return None
    return (state(ti.state), ti.try_number, ti.start_date, ti.end_date)


def _list(client, dag: str, run_id: str, **filters) -> tuple[list, datetime | None]:
    """The task instances matching `filters`, and Airflow's time when it answered the first page."""
    found, offset, clock = [], 0, None
    while True:
        response = client.task_instances.get_task_instances_with_http_info(dag, run_id, limit=PAGE, offset=offset,
                                                                           **filters)
        if clock is None:
            try:
                clock = parsedate_to_datetime((response.headers or {}).get("date", ""))
            except (TypeError, ValueError):
                clock = None  # no Date: the next poll lists everything again
        page = response.data
        found += page.task_instances
        offset += len(page.task_instances)
        if not page.task_instances or offset >= page.total_entries:
            return found, clock


def mirror_forget(pk: int) -> None:
    """Drop what the poller knows of a run's task instances: the next poll lists them all."""
    _seen.pop(pk, None)


def _apply(run: Run, dag_run, tis: list, details: dict, nodes: dict, item_values: dict, changed: set) -> None:
    """Write what Airflow says into the run's rows (called holding the run row); a row whose
    task instance did not change since the last poll (not in `changed`) is left as it is."""
    rows = {(r.node, r.map_index): r for r in run.node_runs.defer("notebook", "log")}
    items_of = defaultdict(list)
    items_task = {}
    for ti in tis:
        node, map_index = row_key(ti, nodes)
        if node not in nodes or node in run.reuse:
            continue  # a task of another version of the DAG, or one returning outputs Loom gave it (run_conf)
        detail = details.get((ti.task_id, ti.map_index))
        if ti.task_id.endswith(naming.ITEMS_SUFFIX):
            items_task[node] = (ti, detail)
            continue
        if map_index is not None:
            items_of[node].append(ti.map_index)
            row = rows.get((node, map_index))
            if row is None:
                row = rows[(node, map_index)] = NodeRun(run=run, node=node, map_index=map_index)
            elif (ti.task_id, ti.map_index) not in changed and detail is None:
                continue
            _row_update(row, ti, detail)
        elif not nodes[node]["map_over"] or not any(k[0] == node and k[1] is not None for k in rows):
            if (ti.task_id, ti.map_index) in changed or detail is not None:
                _row_update(rows[(node, None)], ti, detail)

    for nid, node in nodes.items():
        if not node["map_over"] or nid in run.reuse:
            continue
        summary = rows[(nid, None)]
        live = set(items_of[nid])
        for key in [k for k in rows if k[0] == nid and k[1] is not None and k[1] not in live]:
            if rows[key].pk:
                rows[key].delete()  # an item Airflow no longer has (the list changed on a repair)
            del rows[key]
        items = sorted((rows[(nid, i)] for i in live), key=lambda r: r.map_index)
        ti, detail = items_task.get(nid, (None, None))
        values = item_values.get(nid)
        if isinstance(values, list) and len(values) == len(items):
            parameter = fan_out(node["map_over"], node["map_parameter"]).parameter
            for item in items:
                item.parameters = {**item.parameters, parameter: values[item.map_index]}
            NodeRun.objects.bulk_update(items, ["parameters"], batch_size=1000)
        if items:
            summary.started_at = None  # from its items, as they are now
            node_summarize(summary, items, node)
        elif ti is not None and ti_status(ti) in (Status.FAILED, Status.UPSTREAM_FAILED):
            _row_update(summary, ti, detail)  # the list could not be made: the node did not run
        summary.save()

    _keys_record(run, nodes, rows)
    airflow_says = RUN_STATUS.get(state(dag_run.state), Status.QUEUED)
    run.started_at = run.started_at or dag_run.start_date
    if run.error.startswith(UNREACHABLE):
        run.error = ""  # Airflow answers again
    if airflow_says in FINISHED:
        # Never started, and never will in this DAG run: skipped, or cancelled when Airflow stopped the run.
        never = Status.CANCELLED if airflow_says == Status.FAILED else Status.SKIPPED
        for r in rows.values():
            if r.status in ACTIVE:
                r.status, r.ended_at = never, dag_run.end_date
                r.save()
        run.status, run.error = run_outcome([r for (_, i), r in rows.items() if i is None])  # in graph order
        run.ended_at = dag_run.end_date or timezone.now()
        run_finished_send(run)
    else:
        run.status = airflow_says
    run.save(update_fields=["status", "started_at", "ended_at", "error"])


def _keys_record(run: Run, nodes: dict, rows: dict) -> None:
    """Give each plain node that just executed successfully its cache key, as the local engine
    does when it dispatches one, so that later runs of either engine can be answered from it."""
    summary = {nid: r for (nid, i), r in rows.items() if i is None}
    for nid, row in summary.items():
        if row.status == Status.SUCCESS and not row.cache_key and nid not in run.reuse and not nodes[nid]["map_over"]:
            try:
                params, _ = node_inputs(run, run.version.graph, nodes[nid], summary)
                row.cache_key = node_cache_key(run, run.version.graph, nodes[nid], params, summary)
            except Exception:  # noqa: BLE001 - a node without a key is only never answered from the cache
                log.exception("run %s: no cache key for %s", run.pk, nid)
                continue
            row.save(update_fields=["cache_key"])


def _row_update(row: NodeRun, ti, detail: dict | None) -> None:
    status = ti_status(ti)
    row.status, row.attempts = status, attempts(ti)
    row.started_at = ti.start_date
    row.ended_at = ti.end_date if status in FINISHED else None
    if status not in FINISHED:
        row.outputs = {}
    row.external_id = ti.dag_run_id
    if detail is not None:
        detail, _ = nul_replace(detail)  # PostgreSQL refuses NUL; the local engine stores the same
        row.log = detail.get("log", "")  # none: the task's result answered; live.py reads its log when asked
        row.outputs = detail.get("outputs", {})
        row.error = detail.get("error")
        row.notebook = detail.get("notebook", row.notebook)
        row.warnings = [*row.warnings, *(w for w in detail.get("warnings", ()) if w not in row.warnings)]
    elif status == Status.SUCCESS:
        row.error = None
    row.save()
