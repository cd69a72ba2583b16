"""The local engine: Celery tasks run each node's notebook as soon as its upstream allow.

Every decision is made from database rows under a lock of the run row (always taken before
any node row and before the tenant row that dispatching locks, so two writers never wait on
each other in opposite order):
- `run_advance` decides which nodes can start (trigger rules), expands fanned-out nodes,
  dispatches what capacity allows, and finishes the run;
- `node_run_execute` (the Celery task's body) claims one attempt, runs the notebook with
  runtime.execute.notebook_execute, and records the outcome;
- `runs_reap` (runs.engines.recovery; each worker, every few seconds) retries or fails
  attempts whose worker stopped sending heartbeats, and re-sends lost messages.
A message only names a node run and a token; whoever holds a stale or duplicate message
finds another token or a row that is no longer queued, and does nothing.

A queued row's `dispatched_at`: with a token, when its message went to the broker (None: the
broker was down, the reaper sends it at its next pass); without a token, since when it has
been ready and waiting for a slot of the tenant's quota. Slots go to the oldest run first.
"""
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
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import DatabaseError, Error, transaction
from django.utils import timezone

from catalog.models import NotebookVersion
from catalog.text import nul_replace
from runs.bookkeeping import node_error, node_summarize, run_outcome
from runs.db import connection_drop, db_retry
from runs.engines import NODE_RUN_EXECUTE, slots, task_send
from runs.limits import node_limits
from runs.models import ACTIVE, FINISHED, NodeRun, Run, Status
from runs.triggers import RUN, WAIT, trigger_decide
from runtime.execute import NotebookCancelled, NotebookFailed, connection_env, notebook_execute
from runtime.parameters import ARTIFACTS_PARAMETER, edge_layer, fan_out, fan_out_items, node_parameters
from tenancy.models import Connection, Tenant
from workflows.graph import graph_bindings, graph_order, output_names, upstream_ids
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


# Where an attempt gets its kernel: runs.worker plugs in its sandboxed pool when a worker process
# starts (kernel_source_set). Outside a worker there is none, and notebooks do not run.
_kernel_source: Callable[[str], object] | None = None
_kernel_warning: str | None = None  # what every node run of this worker shows (LOOM_SANDBOX=off)


def kernel_source_set(take: Callable[[str], object] | None, *, warning: str | None = None) -> None:
    """Take kernels from `take(kernel name)` (a kernel manager, or None to start a fresh one);
    `warning`: what each node run executed here must show, e.g. that it ran unsandboxed."""
    global _kernel_source, _kernel_warning
    _kernel_source, _kernel_warning = take, warning


# --- deciding -------------------------------------------------------------------------------

def node_run_send(node_run_id: int, token: str, countdown: float = 0) -> None:
    """Publish an attempt's message. A broker that is down is not the caller's error (a run
    POST still answers 201): the row is marked unsent and the reaper sends it at its next pass."""
    try:
        task_send(NODE_RUN_EXECUTE, node_run_id, token, countdown=countdown)
    except Exception as e:  # noqa: BLE001 - kombu and redis raise many types; the reaper re-sends whatever failed
        log.warning("node run %s: the broker did not take its message (%s); the reaper sends it again", node_run_id, e)
        try:
            NodeRun.objects.filter(pk=node_run_id, token=token, status=Status.QUEUED).update(dispatched_at=None)
        except Error:
            log.exception("node run %s: could not mark its message unsent", node_run_id)


def run_advance(*, run: Run) -> None:
    """Move a run forward: decide, expand and dispatch ready nodes; finish the run when all are done.

    Call inside a transaction holding the run row (select_for_update); messages go out on commit.
    """
    if run.status not in ACTIVE or run.engine != LocalEngine.name:
        return
    graph = run.version.graph
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
                except (NodeInputError, NotebookVersion.DoesNotExist) as e:  # a deleted version fails the node
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
                    NodeRun(run=run, node=nid, map_index=i, parameters={**_item_folder(run, nid, i, params), target: value})
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
                    row.save(update_fields=["status", "attempts", "outputs", "error", "warnings", "started_at", "ended_at"])
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


def _item_folder(run: Run, node: str, map_index: int, params: dict) -> dict:
    """An item's parameters: Loom's artifacts folder is the item's own (its kernel's working
    folder, the only one its sandbox can write), unless the workflow gave another value."""
    if params.get(ARTIFACTS_PARAMETER) == str(artifacts_dir(run, node)):
        return {**params, ARTIFACTS_PARAMETER: str(artifacts_dir(run, node, map_index))}
    return params


def _dispatch(run: Run, nodes: dict, ready: list[NodeRun], items: dict, summary: dict, now) -> None:
    """Send the ready node runs, within the slots of their pool (runs.engines.slots) and each
    fanned-out node's cap; what does not fit waits for a slot (marked by `dispatched_at`, see
    the module's docstring)."""
    ready = list(ready)
    for nid, its in items.items():
        if its and summary[nid].status == Status.RUNNING:
            cap = nodes[nid]["max_active"] or settings.LOOM_MAP_MAX_ACTIVE
            busy = sum(1 for i in its if i.status == Status.RUNNING or (i.status == Status.QUEUED and i.token))
            waiting = [i for i in sorted(its, key=lambda i: i.map_index) if i.status == Status.QUEUED and not i.token]
            ready.extend(waiting[:max(0, cap - busy)])
    if not ready:
        return
    tenant, room, total = slots.rooms(run)
    sent_at = timezone.now()  # after the tenant's lock: dispatch times follow the order of dispatch
    sent = 0
    for row in ready:
        pool = slots.pool_key(tenant, nodes[row.node]["pool"])
        if room.get(pool, 0) > 0 and total > 0:
            room[pool], total, sent = room[pool] - 1, total - 1, sent + 1
            row.token, row.dispatched_at, row.pool = uuid.uuid4().hex, sent_at, pool
            row.save(update_fields=["token", "dispatched_at", "parameters", "pool"])
            transaction.on_commit(lambda i=row.pk, t=row.token: node_run_send(i, t))
            getattr(_sent, "rows", []).append((row.pk, row.token))
        elif row.dispatched_at is None or row.pool != pool:
            row.dispatched_at, row.pool = row.dispatched_at or now, pool
            row.save(update_fields=["dispatched_at", "pool"])
    if sent and run.started_at is None:
        run.status, run.started_at = Status.RUNNING, now
        run.save(update_fields=["status", "started_at"])
    elif sent and run.status == Status.QUEUED:
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

class NodeUnpreparable(Exception):
    """What an attempt needs cannot be had (a deleted notebook version, a secret that does not
    decrypt): retrying cannot help, so the node fails with this message."""


class _Job:
    """What one attempt needs, read while claiming it (so the notebook runs outside any transaction)."""

    def __init__(self, row: NodeRun, run: Run, node: dict, notebook: NotebookVersion):
        self.row, self.run, self.node, self.notebook = row, run, node, notebook
        env, secrets = {}, []
        for conn in Connection.objects.filter(tenant_id=run.tenant_id, name__in=node["connections"]):
            try:
                secret = conn.get_secret()
            except InvalidToken:
                raise NodeUnpreparable(
                    f"The secret of connection '{conn.name}' cannot be decrypted with LOOM_ENCRYPTION_KEY (was the key "
                    "replaced without keeping the old one after it?); an admin can set the secret again.") from None
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
    what = f"node run {node_run_id}"
    try:
        job, failed_tenant = db_retry(lambda: _claim(node_run_id, token), what=f"claiming {what}")
        if job is None:
            if failed_tenant is not None:  # failed before it ran: its slot is free
                db_retry(lambda: tenant_fill(failed_tenant), what=f"filling the quota after {what}")
            return _sent.rows[0] if _sent.rows else None
        cancel, done = threading.Event(), threading.Event()
        threading.Thread(target=_heartbeat, args=(node_run_id, token, cancel, done), daemon=True,
                         name=f"loom-heartbeat-{node_run_id}").start()
        try:  # the heartbeat goes on while the result is recorded: a slow database is no dead worker
            outcome = _execute(job, cancel)
            _complete(node_run_id, token, outcome)
        finally:
            done.set()
        return _sent.rows[0] if _sent.rows else None
    except (Run.DoesNotExist, NodeRun.DoesNotExist):
        log.info("node run %s was deleted while it ran", node_run_id)
    return None


def _claim(node_run_id: int, token: str) -> "tuple[_Job | None, int | None]":
    """(the attempt's job, None), or (None, the tenant's id) when the node failed before it could
    run (NodeUnpreparable), or (None, None) for a stale or duplicate message."""
    _sent.rows = []
    with transaction.atomic():
        run_id = NodeRun.objects.filter(pk=node_run_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return None, None
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        row = NodeRun.objects.select_for_update().get(pk=node_run_id)
        if row.token != token or row.status != Status.QUEUED or run.status != Status.RUNNING:
            log.info("node run %s: message %s is stale or a duplicate; nothing to do", node_run_id, token)
            return None, None
        now = timezone.now()
        if row.not_before and row.not_before > now:
            # An early copy (re-sent while the retry waits): leave it to the message sent with the delay.
            return None, None
        row.status, row.attempts, row.started_at, row.ended_at = Status.RUNNING, row.attempts + 1, now, None
        row.heartbeat_at, row.worker, row.not_before = now, WORKER_ID, None
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} started on {WORKER_ID}\n"
        row.save(update_fields=["status", "attempts", "started_at", "ended_at", "heartbeat_at", "worker",
                                "not_before", "log"])
        node = next(n for n in run.version.graph["nodes"] if n["id"] == row.node)
        try:
            try:
                notebook = _notebook_version(run, node["notebook"])
            except NotebookVersion.DoesNotExist as e:
                raise NodeUnpreparable(str(e)) from None
            return _Job(row, run, node, notebook), None
        except Error:
            raise  # the database's own trouble: tried again on a new connection (runs.db.db_retry)
        except Exception as e:  # noqa: BLE001 - what cannot be prepared fails the node, never comes back forever
            message = str(e) if isinstance(e, NodeUnpreparable) else f"Loom could not prepare this node: {type(e).__name__}: {e}"
            log.warning("node run %s: %s", node_run_id, message)
            attempt_end(run, row, {"status": Status.FAILED, "error": node_error(message)}, now, retry=False)
            run_advance(run=run)
            return None, run.tenant_id


def _execute(job: _Job, cancel: threading.Event) -> dict:
    job.cwd.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.reads(job.notebook.content, as_version=4)
    try:
        timeout_s, limits = node_limits(tenant=job.run.tenant, node=job.node)
    except NotebookFailed as e:  # the tenant is over a limit: the notebook does not start
        return {"status": Status.FAILED, "error": e.as_dict(), "notebook": None}
    except Exception as e:  # noqa: BLE001 - the node fails saying why, never waits for the reaper
        log.exception("node run %s: its limits could not be set", job.row.pk)
        return {"status": Status.FAILED, "notebook": None,
                "error": node_error(f"Loom could not set this node's limits: {type(e).__name__}: {e}")}
    if _kernel_source is None:  # secure by default: only a worker knows how to sandbox a kernel
        return {"status": Status.FAILED, "notebook": None, "error": node_error(
            "Notebooks run only in a Loom worker (manage.py loom_worker), which starts each kernel in its sandbox.")}
    kernel = _kernel_source(job.notebook.kernel_name)
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
    """While the attempt runs and its result is recorded: prove the worker is alive, and notice a
    cancel (or a reap) within 0.5 s. A database error (a dropped connection, a restart) costs a
    new connection and a pause of at most LOOM_HEARTBEAT_S, never the heartbeat itself."""
    last_beat, failures = timezone.now(), 0
    try:
        while not done.wait(min(0.5 * 2 ** failures, max(0.5, settings.LOOM_HEARTBEAT_S))):
            try:
                mine = NodeRun.objects.filter(pk=node_run_id, token=token, status=Status.RUNNING)
                now = timezone.now()
                if (now - last_beat).total_seconds() >= settings.LOOM_HEARTBEAT_S:
                    alive = mine.update(heartbeat_at=now)
                    last_beat = now
                else:
                    alive = mine.exists()
                failures = 0
            except Error as e:
                failures += 1
                log.warning("heartbeat of node run %s: database error (%s); again on a new connection", node_run_id, e)
                connection_drop()
                continue
            if not alive:
                cancel.set()
                return
    finally:
        connection_drop()


def _complete(node_run_id: int, token: str, outcome: dict) -> None:
    """Record the attempt's outcome and advance its run, then the tenant's waiting runs.

    A dropped connection is retried on a new one (runs.db.db_retry). A result the database
    refuses all the same fails the node with that reason, instead of leaving it running.
    """
    what = f"recording node run {node_run_id}"
    try:
        tenant_id = db_retry(lambda: _record(node_run_id, token, outcome), what=what)
    except DatabaseError as e:
        log.exception("node run %s: its result could not be stored", node_run_id)
        outcome = {"status": Status.FAILED, "notebook": None,
                   "error": node_error(f"Loom could not store this node's result: {type(e).__name__}: {e}".strip())}
        tenant_id = db_retry(lambda: _record(node_run_id, token, outcome), what=what)
    if tenant_id is not None:
        db_retry(lambda: tenant_fill(tenant_id), what=f"filling the quota after node run {node_run_id}")


def _record(node_run_id: int, token: str, outcome: dict) -> int | None:
    """One try at storing an outcome; the run's tenant when the attempt ended here."""
    _sent.rows = []
    now = timezone.now()
    outcome, nuls = _storable(outcome)
    with transaction.atomic():
        run_id = NodeRun.objects.filter(pk=node_run_id).values_list("run_id", flat=True).first()
        if run_id is None:
            return None
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        row = NodeRun.objects.select_for_update().get(pk=node_run_id)
        if row.token != token:
            return None  # reaped and retried elsewhere meanwhile
        if row.status != Status.RUNNING:  # cancelled meanwhile: keep what ran, change nothing else
            if not row.notebook and outcome["notebook"] is not None:  # (not already stored by an earlier try)
                row.notebook, row.log = outcome["notebook"], row.log + outcome["log"]
                row.ended_at = row.ended_at or now
                row.save(update_fields=["notebook", "log", "ended_at"])
            return None
        if outcome["notebook"] is not None:
            row.notebook, row.log = outcome["notebook"], row.log + outcome["log"]
        if nuls:
            row.log += (f"[{now:%H:%M:%S}] the notebook's output held {nuls} NUL character(s) (U+0000), which "
                        "PostgreSQL cannot store: they are stored as U+FFFD (\ufffd)\n")
        if _kernel_warning and _kernel_warning not in row.warnings:
            row.warnings = [*row.warnings, _kernel_warning]
            row.log += f"[{now:%H:%M:%S}] WARNING: {_kernel_warning}\n"
        attempt_end(run, row, outcome, now)
        run_advance(run=run)
        return run.tenant_id


def _storable(outcome: dict) -> tuple[dict, int]:
    """The outcome with its notebook as text and its log, every text from the notebook passed
    through catalog.text.nul_replace; and how many NUL characters that replaced."""
    nb = outcome.get("notebook")
    text = nb if isinstance(nb, str) or nb is None else nbformat.writes(nb)
    log_text = "" if nb is None or isinstance(nb, str) else _notebook_log(nb)
    storable, nuls = nul_replace({"notebook": text, "log": log_text, "outputs": outcome.get("outputs"),
                                  "error": outcome.get("error")})
    return {**outcome, **storable}, nuls


def attempt_end(run: Run, row: NodeRun, outcome: dict, now, *, retry: bool = True) -> None:
    """Record an attempt's outcome: success, a retry after the node's delay, or failure."""
    node = next(n for n in run.version.graph["nodes"] if n["id"] == row.node)
    row.heartbeat_at = None
    if outcome["status"] == Status.SUCCESS:
        row.status, row.outputs, row.error, row.ended_at = Status.SUCCESS, outcome["outputs"], None, now
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} succeeded\n"
    elif retry and row.attempts <= node["retries"] and outcome["status"] != Status.CANCELLED:
        delay = node["retry_delay_s"] or 0
        row.status, row.error, row.ended_at = Status.QUEUED, outcome["error"], now
        row.token, row.dispatched_at = uuid.uuid4().hex, now
        row.not_before = now + timedelta(seconds=delay)
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} failed: {outcome['error']['message']}; retrying in {delay} s\n"
        transaction.on_commit(lambda i=row.pk, t=row.token: node_run_send(i, t, countdown=delay))
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


def tenant_fill(tenant_id: int) -> None:
    """Give the tenant's free slots to its waiting work, oldest run first within each pool.

    Advances only the oldest run with rows waiting for a free slot of their pool, again while
    slots are free and it sends something: a finished node costs about one run_advance per slot
    it frees, however many runs wait.
    """
    tenant = Tenant.objects.get(pk=tenant_id)
    free, total = slots.free_slots(tenant)
    while total > 0:
        run_id = slots.waiting_in_open_pools(tenant, free).order_by("run_id").values_list("run_id", flat=True).first()
        if run_id is None:
            return
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
            run_advance(run=run)
        before, (free, total) = total, slots.free_slots(tenant)
        if total >= before:
            return  # it sent nothing: younger runs of its pool may not pass it, so nothing more can start now
