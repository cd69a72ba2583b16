"""The local engine: Celery tasks run each node's notebook as soon as its upstream allow.

Every decision is made from database rows under a lock of the run row (always taken before
any node row, so two writers never wait on each other in opposite order):
- `run_advance` decides which nodes can start (trigger rules), expands fanned-out nodes,
  dispatches what capacity allows, and finishes the run;
- `node_run_execute` (the Celery task's body) claims one attempt, runs the notebook with
  runtime.execute.notebook_execute, and records the outcome;
- `runs_reap` (each worker, every few seconds) retries or fails attempts whose worker
  stopped sending heartbeats, and re-sends messages a dead worker took with it.
A message only names a node run and a token; whoever holds a stale or duplicate message
finds another token or a row that is no longer queued, and does nothing.
"""
import json
import logging
import os
import socket
import threading
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Callable

import nbformat
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from catalog.models import NotebookVersion
from runs.bookkeeping import node_error, node_summarize, run_outcome
from runs.engines import NODE_RUN_EXECUTE, task_send
from runs.limits import node_limits
from runs.models import ACTIVE, FINISHED, NodeRun, Run, Status
from runs.triggers import RUN, WAIT, trigger_decide
from runtime.execute import NotebookCancelled, NotebookFailed, connection_env, notebook_execute
from runtime.parameters import edge_layer, fan_out, fan_out_items, node_parameters
from tenancy.models import Connection
from workflows.graph import graph_bindings, graph_normalize, graph_order, output_names, upstream_ids
from workflows.selectors import version_notebooks

log = logging.getLogger(__name__)
_sent = threading.local()  # node runs this thread dispatched in its current transaction
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class LocalEngine:
    name = "local"

    def check(self) -> None:
        """Always available: the database and the broker are Loom's own."""

    def start(self, *, run: Run) -> None:
        run_advance(run=run)

    def cancel(self, *, run: Run) -> None:
        """Nothing to send: each running attempt's heartbeat sees its row cancelled and kills its kernel."""

    def rerun(self, *, run: Run, plan: dict[str, bool], rows: list[NodeRun]) -> None:
        """Nothing to do before the rows are reset: `start` then runs them again."""


# Where an attempt gets a pre-started kernel: runs.worker plugs its pool in when a worker process
# starts (kernel_source_set); elsewhere, or when the pool has none, a fresh kernel starts.
_kernel_source: Callable[[str], object] | None = None


def kernel_source_set(take: Callable[[str], object] | None) -> None:
    """Take pre-started kernels from `take(kernel name)` (None: a kernel or None to start a fresh one)."""
    global _kernel_source
    _kernel_source = take


# --- deciding -------------------------------------------------------------------------------

def _send(node_run_id: int, token: str, countdown: float = 0) -> None:
    task_send(NODE_RUN_EXECUTE, node_run_id, token, countdown=countdown)


def run_advance(*, run: Run) -> None:
    """Move a run forward: decide, expand and dispatch ready nodes; finish the run when all are done.

    Call inside a transaction holding the run row (select_for_update); messages go out on commit.
    """
    if run.status not in ACTIVE or run.engine != LocalEngine.name:
        return
    graph = graph_normalize(run.version.graph)
    nodes = {n["id"]: n for n in graph["nodes"]}
    rows = list(run.node_runs.all())
    summary = {r.node: r for r in rows if r.map_index is None}
    items = defaultdict(list)
    for r in rows:
        if r.map_index is not None:
            items[r.node].append(r)
    now = timezone.now()
    decided: dict[str, NodeRun] = {}  # plain nodes whose trigger rule says run, waiting to be sent

    changed = True
    while changed:  # one decision can unlock the next (a skip propagates down a chain)
        changed = False
        for nid in graph_order(graph):
            row, node = summary[nid], nodes[nid]
            if row.status == Status.QUEUED and not row.token and not items[nid]:
                if nid in decided:
                    continue
                decision = trigger_decide(node["trigger_rule"], [summary[u].status for u in upstream_ids(graph, nid)])
                if decision == WAIT:
                    continue
                if decision != RUN:
                    _finish(row, decision, now)
                    changed = True
                    continue
                try:
                    params, map_values = _node_inputs(run, graph, node, summary)
                except NodeInputError as e:
                    row.error = node_error(str(e))
                    _finish(row, Status.FAILED, now)
                    changed = True
                    continue
                if map_values is None:
                    row.parameters = params
                    decided[nid] = row
                    continue
                changed = True
                if not map_values:
                    row.log = "map_over gave an empty list: nothing to run."
                    _finish(row, Status.SKIPPED, now)
                    continue
                target = fan_out(node["map_over"], node["map_parameter"]).parameter
                items[nid] = NodeRun.objects.bulk_create([
                    NodeRun(run=run, node=nid, map_index=i, parameters={**params, target: value})
                    for i, value in enumerate(map_values)
                ])
                row.status, row.started_at = Status.RUNNING, now
                row.save(update_fields=["status", "started_at"])
            elif items[nid] and row.status in (Status.QUEUED, Status.RUNNING):
                if row.status == Status.QUEUED:  # repaired in place: its items keep their parameters
                    row.status, row.started_at = Status.RUNNING, now
                    row.save(update_fields=["status", "started_at"])
                    changed = True
                if all(i.status in FINISHED for i in items[nid]):
                    node_summarize(row, sorted(items[nid], key=lambda i: i.map_index), node, now=now)
                    row.save(update_fields=["status", "attempts", "outputs", "error", "started_at", "ended_at"])
                    changed = True

    _dispatch(run, nodes, list(decided.values()), items, summary, now)
    if all(r.status in FINISHED for r in summary.values()):
        run.status, run.error = run_outcome(summary.values())
        run.ended_at = now
        run.save(update_fields=["status", "error", "ended_at"])


def _finish(row: NodeRun, status: str, now) -> None:
    row.status, row.ended_at = status, now
    row.save(update_fields=["status", "ended_at", "error", "log"])


class NodeInputError(Exception):
    pass


def _node_inputs(run: Run, graph: dict, node: dict, summary: dict[str, NodeRun]) -> tuple[dict, list | None]:
    """The node's parameters (without the map item) and, for a fanned-out node, the items."""
    pinned = _notebook_version(run, node["notebook"])
    globals_ = {p["name"]: p.get("default") for p in graph["parameters"]}

    def outputs(source: str) -> dict | None:
        return summary[source].outputs if summary[source].status == Status.SUCCESS else None

    resolved = node_parameters(
        [p["name"] for p in pinned.parameters],
        overrides=run.parameters,
        values=node["parameters"],
        edge=edge_layer(graph_bindings(graph)[node["id"]], outputs),
        globals=globals_,
        artifacts_dir=str(artifacts_dir(run, node["id"])),
    )
    params = {name: r.value for name, r in resolved.items()}
    fan = fan_out(node["map_over"], node["map_parameter"])
    if fan is None:
        return params, None
    try:
        values = fan_out_items(fan, upstream=outputs(fan.node) if fan.node is not None else None,
                               overrides=run.parameters, globals=globals_)
    except TypeError as e:
        raise NodeInputError(str(e)) from None
    if len(values) > settings.LOOM_MAP_MAX_ITEMS:
        raise NodeInputError(f"map_over '{fan.over}' has {len(values)} items; the limit is {settings.LOOM_MAP_MAX_ITEMS} (LOOM_MAP_MAX_ITEMS).")
    return params, values


def _dispatch(run: Run, nodes: dict, ready: list[NodeRun], items: dict, summary: dict, now) -> None:
    """Send the ready node runs, within the tenant's quota and each fanned-out node's cap."""
    ready = list(ready)
    for nid, its in items.items():
        if its and summary[nid].status == Status.RUNNING:
            cap = nodes[nid]["max_active"] or settings.LOOM_MAP_MAX_ACTIVE
            busy = sum(1 for i in its if i.status == Status.RUNNING or (i.status == Status.QUEUED and i.token))
            waiting = [i for i in sorted(its, key=lambda i: i.map_index) if i.status == Status.QUEUED and not i.token]
            ready.extend(waiting[:max(0, cap - busy)])
    if not ready:
        return
    in_flight = NodeRun.objects.filter(run__tenant_id=run.tenant_id).filter(
        status=Status.RUNNING, heartbeat_at__isnull=False).count() + NodeRun.objects.filter(
        run__tenant_id=run.tenant_id, status=Status.QUEUED).exclude(token="").count()
    room = max(0, run.tenant.concurrency_quota - in_flight)
    for row in ready[:room]:
        row.token, row.dispatched_at = uuid.uuid4().hex, now
        row.save(update_fields=["token", "dispatched_at", "parameters"])
        transaction.on_commit(lambda i=row.pk, t=row.token: _send(i, t))
        getattr(_sent, "rows", []).append((row.pk, row.token))
    if ready[:room] and run.started_at is None:
        run.status, run.started_at = Status.RUNNING, now
        run.save(update_fields=["status", "started_at"])
    elif ready[:room] and run.status == Status.QUEUED:
        run.status = Status.RUNNING
        run.save(update_fields=["status"])


def artifacts_dir(run: Run, node: str, map_index: int | None = None) -> Path:
    """Where a node run keeps its files: <LOOM_ARTIFACTS_DIR>/<tenant>/<run>/<node>[-<map index>]."""
    leaf = node if map_index is None else f"{node}-{map_index}"
    return Path(settings.LOOM_ARTIFACTS_DIR) / run.tenant.slug / str(run.pk) / leaf


def _notebook_version(run: Run, name: str) -> NotebookVersion:
    """The notebook version the run's workflow version pinned (cached on the run object)."""
    cache = run.__dict__.setdefault("_pinned", {})
    if name not in cache:
        found = version_notebooks(version=run.version, names={name}, content=True)
        if name not in found:
            raise NotebookVersion.DoesNotExist(f"The notebook {name} that version {run.version.number} pinned is gone.")
        cache[name] = found[name]
    return cache[name]


# --- executing ------------------------------------------------------------------------------

class _Job:
    """What one attempt needs, read while claiming it (so the notebook runs outside any transaction)."""

    def __init__(self, row: NodeRun, run: Run, node: dict, notebook: NotebookVersion):
        self.row, self.run, self.node, self.notebook = row, run, node, notebook
        env, secrets = {}, []
        for conn in Connection.objects.filter(tenant_id=run.tenant_id, name__in=node["connections"]):
            secret = conn.get_secret()
            env |= connection_env(conn.name, kind=conn.kind, host=conn.host, port=conn.port, login=conn.login,
                                  password=secret, schema=conn.schema, extra=conn.runtime_extra())
            secrets.extend(conn.secret_values())
        self.env = env | {"LOOM_RUN_ID": str(run.pk), "LOOM_NODE": row.node,
                          "LOOM_MAP_INDEX": "" if row.map_index is None else str(row.map_index)}
        self.secrets = secrets
        self.cwd = artifacts_dir(run, row.node, row.map_index)


def node_run_execute(*, node_run_id: int, token: str) -> None:
    """Run one attempt of a node run, if `token` still names it; record the outcome and advance the run.

    When that dispatches downstream nodes, this thread goes on with the first of them at once
    instead of waiting for the broker to hand it back (its message is still sent; whichever
    claims the attempt first runs it, the other copy finds it taken).
    """
    follow = (node_run_id, token)
    while follow:
        follow = _execute_one(*follow)


def _execute_one(node_run_id: int, token: str) -> tuple[int, str] | None:
    _sent.rows = []
    try:
        job = _claim(node_run_id, token)
        if job is None:
            return
        cancel, done = threading.Event(), threading.Event()
        threading.Thread(target=_heartbeat, args=(node_run_id, token, cancel, done), daemon=True,
                         name=f"loom-heartbeat-{node_run_id}").start()
        try:
            outcome = _execute(job, cancel)
        finally:
            done.set()
        _sent.rows = []
        _complete(node_run_id, token, outcome)
        return _sent.rows[0] if _sent.rows else None
    except (Run.DoesNotExist, NodeRun.DoesNotExist):
        log.info("node run %s was deleted while it ran", node_run_id)
    return None


def _claim(node_run_id: int, token: str) -> "_Job | None":
    with transaction.atomic():
        run_id = NodeRun.objects.filter(pk=node_run_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return None
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        row = NodeRun.objects.select_for_update().get(pk=node_run_id)
        if row.token != token or row.status != Status.QUEUED or run.status != Status.RUNNING:
            log.info("node run %s: message %s is stale or a duplicate; nothing to do", node_run_id, token)
            return None
        now = timezone.now()
        if row.not_before and row.not_before > now:
            # An early copy (re-sent while the retry waits): leave it to the message sent with the delay.
            return None
        row.status, row.attempts, row.started_at, row.ended_at = Status.RUNNING, row.attempts + 1, now, None
        row.heartbeat_at, row.worker, row.not_before = now, WORKER_ID, None
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} started on {WORKER_ID}\n"
        row.save(update_fields=["status", "attempts", "started_at", "ended_at", "heartbeat_at", "worker",
                                "not_before", "log"])
        node = next(n for n in graph_normalize(run.version.graph)["nodes"] if n["id"] == row.node)
        return _Job(row, run, node, _notebook_version(run, node["notebook"]))


def _execute(job: _Job, cancel: threading.Event) -> dict:
    job.cwd.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.reads(job.notebook.content, as_version=4)
    try:
        timeout_s, limits = node_limits(tenant=job.run.tenant, node=job.node)
    except NotebookFailed as e:  # the tenant is over a limit: the notebook does not start
        return {"status": Status.FAILED, "error": e.as_dict(), "notebook": None}
    kernel = _kernel_source(job.notebook.kernel_name) if _kernel_source else None
    try:
        result = notebook_execute(
            notebook=notebook, output_path=None, parameters=job.row.parameters, outputs=output_names(job.node),
            cwd=job.cwd, timeout_s=timeout_s, env=job.env, secrets=job.secrets,
            kernel_manager=kernel, cancel=cancel, limits=limits,
        )
        return {"status": Status.SUCCESS, "outputs": result.outputs, "notebook": result.notebook}
    except NotebookCancelled as e:
        return {"status": Status.CANCELLED, "error": e.as_dict(), "notebook": e.notebook}
    except NotebookFailed as e:
        return {"status": Status.FAILED, "error": e.as_dict(), "notebook": e.notebook}
    except Exception as e:  # noqa: BLE001 - whatever breaks, the node fails with the reason, never hangs
        log.exception("node run %s crashed", job.row.pk)
        return {"status": Status.FAILED, "notebook": None,
                "error": node_error(f"Loom could not run the notebook: {type(e).__name__}: {e}")}


def _heartbeat(node_run_id: int, token: str, cancel: threading.Event, done: threading.Event) -> None:
    """While the notebook runs: prove the worker is alive, and notice a cancel (or a reap) within 0.5 s."""
    last_beat = timezone.now()
    try:
        while not done.wait(0.5):
            mine = NodeRun.objects.filter(pk=node_run_id, token=token, status=Status.RUNNING)
            now = timezone.now()
            if (now - last_beat).total_seconds() >= settings.LOOM_HEARTBEAT_S:
                alive = mine.update(heartbeat_at=now)
                last_beat = now
            else:
                alive = mine.exists()
            if not alive:
                cancel.set()
                return
    except Exception:  # noqa: BLE001 - a database hiccup must not kill the notebook; the reaper is the backstop
        log.exception("heartbeat of node run %s failed", node_run_id)
    finally:
        connection.close()


def _complete(node_run_id: int, token: str, outcome: dict) -> None:
    now = timezone.now()
    with transaction.atomic():
        run_id = NodeRun.objects.filter(pk=node_run_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        row = NodeRun.objects.select_for_update().get(pk=node_run_id)
        if row.token != token:
            return  # reaped and retried elsewhere meanwhile
        nb = outcome.get("notebook")
        if nb is not None:
            row.notebook = nbformat.writes(nb)
            row.log += _notebook_log(nb)
        if row.status != Status.RUNNING:  # cancelled meanwhile: keep what ran, change nothing else
            row.ended_at = row.ended_at or now
            row.save(update_fields=["notebook", "log", "ended_at"])
            return
        _attempt_end(run, row, outcome, now)
        run_advance(run=run)
    _advance_tenant(run)


def _attempt_end(run: Run, row: NodeRun, outcome: dict, now) -> None:
    """Record an attempt's outcome: success, a retry after the node's delay, or failure."""
    node = next(n for n in graph_normalize(run.version.graph)["nodes"] if n["id"] == row.node)
    row.heartbeat_at = None
    if outcome["status"] == Status.SUCCESS:
        row.status, row.outputs, row.error, row.ended_at = Status.SUCCESS, outcome["outputs"], None, now
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} succeeded\n"
    elif row.attempts <= node["retries"] and outcome["status"] != Status.CANCELLED:
        delay = node["retry_delay_s"] or 0
        row.status, row.error, row.ended_at = Status.QUEUED, outcome["error"], now
        row.token, row.dispatched_at = uuid.uuid4().hex, now
        row.not_before = now + timedelta(seconds=delay)
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} failed: {outcome['error']['message']}; retrying in {delay} s\n"
        transaction.on_commit(lambda i=row.pk, t=row.token: _send(i, t, countdown=delay))
    else:
        row.status, row.error, row.ended_at = Status.FAILED, outcome["error"], now
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} failed: {outcome['error']['message']}\n"
    row.save()


def _notebook_log(nb) -> str:
    """The text a notebook printed (streams and errors), cell by cell; already scrubbed."""
    lines = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                lines.append(f"[cell {i} {out.get('name')}] {out.get('text', '').rstrip()}")
            elif out.get("output_type") == "error":
                lines.append(f"[cell {i} error] {out.get('ename')}: {out.get('evalue')}")
    return "\n".join(lines) + ("\n" if lines else "")


def _advance_tenant(run: Run) -> None:
    """A finished node frees a slot of the tenant's quota: let the tenant's other runs use it."""
    others = Run.objects.filter(tenant_id=run.tenant_id, status=Status.RUNNING, engine=LocalEngine.name).exclude(
        pk=run.pk).values_list("pk", flat=True)
    for pk in others:
        with transaction.atomic():
            other = Run.objects.select_for_update().select_related("version", "tenant").get(pk=pk)
            run_advance(run=other)


# --- recovering -----------------------------------------------------------------------------

def runs_reap() -> None:
    """Fail (or retry) attempts whose worker died, re-send lost messages, and advance active runs.

    An attempt's heartbeat is refreshed every LOOM_HEARTBEAT_S; one older than
    LOOM_HEARTBEAT_TIMEOUT_S means its worker is gone (SIGKILL, crash, power): the attempt
    fails with that reason and the node retries if it has retries left. A dispatched node run
    still queued after LOOM_REDISPATCH_AFTER_S (its message died with a worker) is sent again;
    a duplicate is harmless.
    """
    close_old_connections()
    now = timezone.now()
    stale = NodeRun.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.LOOM_HEARTBEAT_TIMEOUT_S))
    for row_id, run_id, token in stale.values_list("pk", "run_id", "token"):
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
            row = NodeRun.objects.select_for_update().get(pk=row_id)
            if row.status != Status.RUNNING or row.token != token or row.heartbeat_at >= now - timedelta(
                    seconds=settings.LOOM_HEARTBEAT_TIMEOUT_S):
                continue
            message = (f"The worker running this node ({row.worker}) stopped: no heartbeat for "
                       f"{settings.LOOM_HEARTBEAT_TIMEOUT_S} s.")
            log.warning("node run %s: %s", row_id, message)
            _attempt_end(run, row, {"status": Status.FAILED, "error": node_error(message)}, now)
            run_advance(run=run)

    lost = NodeRun.objects.filter(status=Status.QUEUED, dispatched_at__lt=now - timedelta(
        seconds=settings.LOOM_REDISPATCH_AFTER_S)).exclude(token="")
    for row in lost:
        if row.not_before and row.not_before > now - timedelta(seconds=settings.LOOM_REDISPATCH_AFTER_S):
            continue
        NodeRun.objects.filter(pk=row.pk, token=row.token, status=Status.QUEUED).update(dispatched_at=now)
        _send(row.pk, row.token)

    for pk in Run.objects.filter(status=Status.RUNNING, engine=LocalEngine.name).values_list("pk", flat=True):
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=pk)
            run_advance(run=run)
