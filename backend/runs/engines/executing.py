"""The local engine's executing side: the Celery task's body claims one attempt of a node run,
runs its notebook with runtime.execute.notebook_execute in a kernel of this worker's source (its
sandboxed pool), sends heartbeats while it runs, and records the outcome, then lets the deciding
side (runs.engines.local) advance the run. The module docstring of runs.engines.local tells the
whole protocol (tokens, locks, the reaper).
"""
import logging
import threading
from typing import Callable

import nbformat
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import DatabaseError, Error, transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from catalog.models import NotebookVersion
from catalog.text import nul_replace
from runs.bookkeeping import node_error
from runs.db import connection_drop, db_retry
from runs.engines.local import WORKER_ID, artifacts_dir, attempt_end, pinned_notebook, run_advance, sent_here, tenant_fill
from runs.limits import node_limits
from runs.models import NodeRun, Run, Status
from runtime.execute import NotebookCancelled, NotebookFailed, connection_env, notebook_execute
from tenancy.models import Connection
from workflows.graph import output_names

log = logging.getLogger(__name__)

# Where an attempt gets its kernel: runs.worker plugs in its sandboxed pool when a worker process
# starts (kernel_source_set). Outside a worker there is none, and notebooks do not run.
_kernel_source: Callable[..., object] | None = None
_kernel_warning: str | None = None  # what every node run of this worker shows (LOOM_SANDBOX=off)


def kernel_source_set(take: Callable[..., object] | None, *, warning: str | None = None) -> None:
    """Take kernels from `take(kernel name, group, reuse=node)` (a kernel manager, or None to start a
    fresh one; `group`: (tenant id, run id) of a fanned-out item, whose kernel may come from its
    run's sandbox; `reuse`: the item's node, when it has `reuse_kernel`);
    `warning`: what each node run executed here must show, e.g. that it ran unsandboxed."""
    global _kernel_source, _kernel_warning
    _kernel_source, _kernel_warning = take, warning


class NodeUnpreparable(Exception):
    """What an attempt needs cannot be had (a deleted notebook version, a secret that does not
    decrypt): retrying cannot help, so the node fails with this message."""


class _Job:
    """What one attempt needs, read while claiming it (so the notebook runs outside any transaction)."""

    def __init__(self, row: NodeRun, run: Run, node: dict, notebook: NotebookVersion):
        self.row, self.run, self.node, self.notebook = row, run, node, notebook
        env, secrets = {}, []
        named = Connection.objects.filter(tenant_id=run.tenant_id, name__in=node["connections"])
        for conn in named if node["connections"] else ():  # most nodes name none: no query per item
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
        self.live = LiveLog()


class LiveLog:
    """The lines a running notebook prints, waiting for the heartbeat to append them to its node
    run's log (GET .../nodes/{node}/log/ serves them while it runs). `close` takes the rest once
    the notebook ended, after any append under way, so no line is lost or written twice."""

    def __init__(self):
        self.lines: list[str] = []
        self.closed = False
        self.lock = threading.Lock()

    def line(self, cell_index: int, name: str, text: str) -> None:
        self.lines.append(f"[cell {cell_index} {name}] {text}\n")

    def append_to(self, rows) -> None:
        """Append what is pending to the log of `rows` (a queryset: the attempt's row, still running)."""
        with self.lock:
            if self.closed or not self.lines:
                return
            text, _ = nul_replace("".join(self.lines))
            del self.lines[:]
            rows.update(log=Concat(F("log"), Value(text), output_field=TextField()))

    def close(self) -> str:
        with self.lock:
            self.closed = True
            text, self.lines = "".join(self.lines), []
            return text


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
            return sent_here.rows[0] if sent_here.rows else None
        cancel, done = threading.Event(), threading.Event()
        threading.Thread(target=_heartbeat, args=(node_run_id, token, job.live, cancel, done), daemon=True,
                         name=f"loom-heartbeat-{node_run_id}").start()
        try:  # the heartbeat goes on while the result is recorded: a slow database is no dead worker
            outcome = _execute(job, cancel)
            outcome["streamed"] = job.live.close()  # the rest of what it printed; the log has the start
            _complete(node_run_id, token, outcome)
        finally:
            done.set()
        return sent_here.rows[0] if sent_here.rows else None
    except (Run.DoesNotExist, NodeRun.DoesNotExist):
        log.info("node run %s was deleted while it ran", node_run_id)
    return None


def _claim(node_run_id: int, token: str) -> "tuple[_Job | None, int | None]":
    """(the attempt's job, None), or (None, the tenant's id) when the node failed before it could
    run (NodeUnpreparable), or (None, None) for a stale or duplicate message."""
    sent_here.rows = []
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
                notebook = pinned_notebook(run, node["notebook"])
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
    group = _kernel_group(job, limits)
    kernel = _kernel_source(job.notebook.kernel_name, group,
                            reuse=job.row.node if group is not None and job.node.get("reuse_kernel") else None)
    try:
        result = notebook_execute(
            notebook=notebook, output_path=None, parameters=job.row.parameters, outputs=output_names(job.node),
            cwd=job.cwd, timeout_s=timeout_s, env=job.env, secrets=job.secrets,
            kernel_manager=kernel, cancel=cancel, limits=limits, on_stream=job.live.line,
            kernel_python=settings.LOOM_SANDBOX.unsandboxed_python if kernel is None else None,
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


def _kernel_group(job: _Job, limits) -> tuple | None:
    """Fanned-out items share their run's sandbox, whose warm interpreter forks their kernels
    (runtime/zygote.py): not a node with its own lower process limit, which counts a sandbox's
    processes together."""
    if job.row.map_index is None or (limits.max_procs and limits.max_procs < settings.LOOM_SANDBOX.max_procs):
        return None
    return job.run.tenant_id, job.run.pk


def _heartbeat(node_run_id: int, token: str, live: LiveLog, cancel: threading.Event, done: threading.Event) -> None:
    """While the attempt runs and its result is recorded: prove the worker is alive, append what
    the notebook printed to its log, and notice a cancel (or a reap) within 0.5 s. A database error (a dropped connection, a restart) costs a
    new connection and a pause of at most LOOM_HEARTBEAT_S, never the heartbeat itself."""
    last_beat, failures = timezone.now(), 0
    try:
        while not done.wait(min(0.5 * 2 ** failures, max(0.5, settings.LOOM_HEARTBEAT_S))):
            try:
                mine = NodeRun.objects.filter(pk=node_run_id, token=token, status=Status.RUNNING)
                now = timezone.now()
                live.append_to(mine)
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
    sent_here.rows = []
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
    # nbformat.writes less its validation, which only logs (notebook_execute returns version 4).
    text = nb if isinstance(nb, str) or nb is None else nbformat.v4.writes(nb)
    if "streamed" in outcome:  # what it printed is in the log already (LiveLog) but for this rest
        log_text = outcome["streamed"] + ("" if nb is None or isinstance(nb, str) else _notebook_log(nb, streams=False))
    else:
        log_text = "" if nb is None or isinstance(nb, str) else _notebook_log(nb)
    storable, nuls = nul_replace({"notebook": text, "log": log_text, "outputs": outcome.get("outputs"),
                                  "error": outcome.get("error")})
    return {**outcome, **storable}, nuls


def _notebook_log(nb, *, streams: bool = True) -> str:
    """The text a notebook printed (streams, unless streamed live, and errors), cell by cell; already scrubbed."""
    lines = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and streams:
                lines.append(f"[cell {i} {out.get('name')}] {out.get('text', '').rstrip()}")
            elif out.get("output_type") == "error":
                lines.append(f"[cell {i} error] {out.get('ename')}: {out.get('evalue')}")
    return "\n".join(lines) + ("\n" if lines else "")
