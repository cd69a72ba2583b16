"""Execute one notebook with papermill and collect its declared outputs. No Django here.

Both engines call `notebook_execute`: the local engine from its Celery tasks, and the
generated Airflow DAGs from their tasks. It reads top to bottom like papermill's own
pipeline: load, add the output collector, parameterize, execute, scrub, write, raise,
collect. This file imports nothing from Loom, so DAG files can carry its source.

What it adds to papermill:
- a whole-notebook timeout and a cancel event, both of which kill the kernel;
- a kernel that dies, hangs or never starts ends in `NotebookFailed` naming the cell, like
  an exception in a cell does, and the executed notebook is written in every case;
- extra environment variables for the kernel (connection fields), never written into the
  notebook, and `secrets` scrubbed from everything that leaves this function;
- limits on what the notebook prints, outputs and writes (`limits`, runtime/limits.py), applied
  as the kernel sends it;
- an optional pre-started kernel (`kernel_manager`), so the caller can hide the kernel's
  start-up; the kernel serves this notebook only and is shut down afterwards.
"""
import html
import json
import os
import re
import signal
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellExecutionError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.iorw import load_notebook_node, write_ipynb
from papermill.parameterize import parameterize_notebook

# The collector cell displays the declared outputs under this mime type; scrapbook's
# `sb.glue` writes SCRAP_MIME. Both are read back from the executed notebook.
OUTPUTS_MIME = "application/x-loom-outputs+json"
SCRAP_MIME = "application/scrapbook.scrap.json+json"
COLLECTOR_TAG = "loom-outputs"
ENGINE_NAME = "loom"
SCRUBBED = "********"
# Variables of the calling process a notebook's kernel must not inherit: the orchestrator's
# own database, broker and encryption settings. Connection fields are added back by name.
KERNEL_ENV_DROP = re.compile(r"^(LOOM_|DATABASE_URL$|REDIS_URL$|DJANGO_|CELERY_|AIRFLOW__)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_COLLECTOR = """\
import json as _loom_json
from IPython.display import display as _loom_display
_loom_found, _loom_bad, _loom_big = {{}}, {{}}, {{}}
for _loom_name in {names!r}:
    if _loom_name in globals():
        try:
            _loom_text = _loom_json.dumps(globals()[_loom_name], allow_nan=False)
        except (TypeError, ValueError) as _loom_e:
            _loom_bad[_loom_name] = type(globals()[_loom_name]).__name__
            continue
        if {max_bytes!r} is not None and len(_loom_text.encode()) > {max_bytes!r}:
            _loom_big[_loom_name] = len(_loom_text.encode())
        else:
            _loom_found[_loom_name] = _loom_json.loads(_loom_text)
_loom_display({{{mime!r}: {{"values": _loom_found, "not_json": _loom_bad, "too_large": _loom_big}},
               "text/plain": "Loom outputs: " + ", ".join(sorted(_loom_found)) or "none"}}, raw=True)
"""


class NotebookFailed(Exception):
    """The notebook did not complete, or its outputs could not be collected.

    `cell_index`, `cell_source` and `traceback` name the failing cell when there is one;
    `notebook` is the executed notebook (scrubbed) when execution got that far.
    """

    def __init__(self, message: str, *, cell_index: int | None = None, cell_source: str = "", traceback: str = "",
                 notebook: nbformat.NotebookNode | None = None):
        super().__init__(message)
        self.message = message
        self.cell_index = cell_index
        self.cell_source = cell_source
        self.traceback = traceback
        self.notebook = notebook

    def as_dict(self) -> dict:
        return {"message": self.message, "cell_index": self.cell_index,
                "cell_source": self.cell_source, "traceback": self.traceback}


class NotebookCancelled(NotebookFailed):
    """The caller's cancel event stopped the notebook (its kernel was killed)."""


@dataclass
class NotebookResult:
    outputs: dict[str, Any]
    notebook: nbformat.NotebookNode = field(repr=False)


def notebook_execute(
    *,
    notebook: str | Path | nbformat.NotebookNode,
    output_path: str | Path | None,
    parameters: Mapping[str, Any],
    outputs: Iterable[str] = (),
    cwd: str | Path | None = None,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    kernel_manager=None,
    shared: str | Path | None = None,
    cancel: threading.Event | None = None,
    limits=None,
    **engine_kwargs,
) -> NotebookResult:
    """Run a notebook with `parameters` injected; return the values of its declared `outputs`.

    `timeout_s` bounds the whole notebook: past it the kernel is killed and NotebookFailed
    raised. Setting `cancel` does the same and raises NotebookCancelled. `env` adds variables
    to the kernel's environment; every string in `secrets` is replaced by ******** in the
    executed notebook, the error and the outputs. `kernel_manager` is an optional
    jupyter_client AsyncKernelManager, started and unused or not yet started; it is shut down
    when the notebook ends (also when parameters cannot be injected). When it is sandboxed
    (see `kernel_manager()`), `cwd` is the notebook's only writable folder (what it writes is
    moved there when it ends) and the files under `shared` (default: cwd's parent) are readable.
    `limits` (runtime.limits.Limits) bounds output values, the notebook, its streams and the
    files in `cwd` (the node's folder), and lowers a sandboxed kernel's memory and processes
    (its memory_mb and max_procs); passed in, not imported, as DAG files load each module apart.
    The executed notebook is written to `output_path` (when given) whether or not it failed.
    """
    names = list(outputs)
    secrets = _secret_variants(secrets)
    sandbox = getattr(kernel_manager, "sandbox", None)
    try:
        nb = load_notebook_node(notebook if isinstance(notebook, nbformat.NotebookNode) else str(notebook))
        nb = _with_collector(nb, names, limits.output_max_bytes if limits else None)
        if parameters:
            nb = parameterize_notebook(nb, dict(parameters), engine_name=ENGINE_NAME)
        kernel_name = papermill_engines.nb_kernel_name(engine_name=ENGINE_NAME, nb=nb)
        if sandbox is not None:
            if limits is not None:
                sandbox.limit(memory_mb=limits.memory_mb, max_procs=limits.max_procs, sources=dict(limits.sources))
            if cwd:
                sandbox.enter(cwd=cwd, shared=shared)
    except BaseException:
        if kernel_manager is not None:  # it will serve no notebook: do not leave it running
            kernel_dispose(kernel_manager)
        raise

    watchdog = _Watchdog(timeout_s=timeout_s, cancel=cancel)
    budget = limits.budget() if limits else None
    state: dict[str, Any] = {"budget": budget}
    try:
        executed = papermill_engines.execute_notebook_with_engine(
            ENGINE_NAME, nb, kernel_name=kernel_name, output_path=None, progress_bar=False, log_output=False,
            km=kernel_manager, kernel_env=kernel_environment(env), extra_env=dict(env or {}),
            kernel_cwd=str(cwd) if cwd else None,
            watchdog=watchdog, state=state, **engine_kwargs,
        )
    finally:
        watchdog.stop()
    if budget:
        budget.mark(executed)
    executed = _scrub(executed, secrets)
    if output_path:
        write_ipynb(executed, str(output_path))

    failure = _failure(executed, state, watchdog, timeout_s)
    if failure and sandbox is not None:
        failure.message += sandbox.explain(failure.message)
    if not failure and budget and (problem := budget.problem(names, cwd)):
        failure = NotebookFailed(problem)
    if failure:
        failure.message = _scrub(failure.message, secrets)
        failure.cell_source = _scrub(failure.cell_source, secrets)
        failure.traceback = _scrub(failure.traceback, secrets)
        failure.notebook = executed
        raise failure
    try:
        collected = outputs_collect(executed, names)
    except NotebookFailed as e:
        e.notebook = executed
        raise
    return NotebookResult(outputs=_scrub(collected, secrets), notebook=executed)


# Every kernel starts with these: no IPython input history, which notebooks never read and which
# kernels would otherwise share in one SQLite file (lock errors printed into a node's output).
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


def kernel_environment(extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a notebook's kernel: the caller's, less KERNEL_ENV_DROP, plus `extra`."""
    base = os.environ if base is None else base
    return {k: v for k, v in base.items() if not KERNEL_ENV_DROP.match(k)} | {k: str(v) for k, v in (extra or {}).items()}


def connection_env(name: str, *, kind: str = "", host: str = "", port: int | None = None, login: str = "",
                   password: str = "", schema: str = "", extra: Mapping | None = None) -> dict[str, str]:
    """The environment variables a notebook reads a connection from.

    LOOM_CONN_<NAME>_KIND, _HOST, _PORT, _LOGIN, _PASSWORD, _SCHEMA, _EXTRA (JSON) and _URI
    (kind://login:password@host:port/schema, quoted), with <NAME> the connection name in capitals.
    """
    prefix = f"LOOM_CONN_{name.upper()}_"
    auth = f"{quote(login, safe='')}{':' + quote(password, safe='') if password else ''}@" if login or password else ""
    uri = f"{kind or 'generic'}://{auth}{host}{f':{port}' if port else ''}{f'/{schema}' if schema else ''}"
    values = {"KIND": kind, "HOST": host, "PORT": "" if port is None else str(port), "LOGIN": login,
              "PASSWORD": password, "SCHEMA": schema, "EXTRA": json.dumps(extra or {}), "URI": uri}
    return {prefix + k: v for k, v in values.items()}


def _with_collector(nb: nbformat.NotebookNode, names: list[str], max_bytes: int | None) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # never change the caller's notebook
    cell = nbformat.v4.new_code_cell(_COLLECTOR.format(names=names, mime=OUTPUTS_MIME, max_bytes=max_bytes))
    cell.metadata["tags"] = [COLLECTOR_TAG]
    nb.cells.append(cell)
    return nb


def _failure(nb, state: dict, watchdog: "_Watchdog", timeout_s) -> NotebookFailed | None:
    """Why the notebook did not complete, naming the cell; None when it did."""
    index = state.get("cell_index")
    cell = nb.cells[index] if index is not None and index < len(nb.cells) else None
    where = {"cell_index": index, "cell_source": cell.source if cell else ""}
    at = f" while cell {index} ran" if cell else ""
    if watchdog.fired == "cancelled":
        return NotebookCancelled(f"Cancelled{at}; the kernel was stopped.", **where)
    if watchdog.fired == "timeout":
        source = state["budget"].limits.timeout_source if state.get("budget") else "the node's timeout_s"
        return NotebookFailed(f"Timed out after {timeout_s:g} s{at} ({source}); the kernel was stopped.", **where)
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error" and not (out.ename == "SystemExit" and out.evalue in ("", "0")):
                hint = state["budget"].limits.file_too_large_hint if state.get("budget") else ""
                hint = f" ({hint})" if hint and "File too large" in out.evalue else ""
                return NotebookFailed(
                    f"Cell {i} raised {out.ename}: {out.evalue}{hint}", cell_index=i, cell_source=c.source,
                    traceback=_ANSI.sub("", "\n".join(out.traceback)),
                )
    error = state.get("error")
    if isinstance(error, DeadKernelError):
        return NotebookFailed(f"The kernel died{at} (killed, or out of memory).", **where)
    if error is not None:
        return NotebookFailed(f"The kernel failed{at}: {type(error).__name__}: {error}", **where)
    return None


def outputs_collect(nb: nbformat.NotebookNode, names: list[str]) -> dict[str, Any]:
    """Declared outputs from the collector cell, or from scrapbook glue (the later wins)."""
    found: dict[str, Any] = {}
    not_json: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if SCRAP_MIME in data:
                scrap = data[SCRAP_MIME]
                found[scrap["name"]] = scrap["data"]
            if OUTPUTS_MIME in data:
                found.update(data[OUTPUTS_MIME]["values"])
                not_json.update(data[OUTPUTS_MIME]["not_json"])
    for name in names:
        if name in not_json and name not in found:
            raise NotebookFailed(f"Output '{name}' is a {not_json[name]}, which is not JSON; store it in a file and output the path.")
    missing = [n for n in names if n not in found]
    if missing:
        raise NotebookFailed(f"The notebook did not set declared output(s): {', '.join(missing)}.")
    return {n: found[n] for n in names}


def _secret_variants(secrets: Iterable[str]) -> list[str]:
    """Each secret as printed plainly, inside repr(), inside JSON, URL-quoted (path, query and
    form style) and HTML-escaped; longest first, so a longer form is replaced before its parts."""
    variants = set()
    for s in secrets:
        if s:
            variants |= {s, repr(s)[1:-1], json.dumps(s)[1:-1], quote(s, safe=""), quote(s, safe="/"),
                         quote_plus(s), html.escape(s), html.escape(s, quote=False)}
    return sorted(variants, key=len, reverse=True)


def _scrub(value, secrets: list[str]):
    """`value` with every secret variant replaced by SCRUBBED. A cell's stream outputs are joined
    per stream first, so a secret printed in several messages is still found."""
    if not secrets:
        return value
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, SCRUBBED)
        return value
    if isinstance(value, dict):
        if value.get("cell_type") == "code" and isinstance(value.get("outputs"), list):
            value = type(value)(value, outputs=_join_streams(value["outputs"]))
        return type(value)({_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()})
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def _join_streams(outputs: list) -> list:
    """A cell's outputs with all stdout (and all stderr) text in one output, where it first
    appeared (as Jupyter's coalesce_streams does)."""
    joined, streams = [], {}
    for out in outputs:
        if isinstance(out, dict) and out.get("output_type") == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if out.get("name") in streams:
                streams[out.get("name")]["text"] += text
                continue
            out = type(out)(out, text=text)
            streams[out.get("name")] = out
        joined.append(out)
    return joined


class _Watchdog:
    """Kills the kernel when the whole-notebook timeout passes or the cancel event is set."""

    def __init__(self, *, timeout_s: float | None, cancel: threading.Event | None):
        self.deadline = time.monotonic() + timeout_s if timeout_s else None
        self.cancel = cancel
        self.fired: str | None = None  # "timeout" or "cancelled"
        self._km = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        if self.deadline or cancel:
            threading.Thread(target=self._watch, name="loom-notebook-watchdog", daemon=True).start()

    def arm(self, km) -> None:
        """The kernel to kill; killed at once if the watchdog already fired."""
        with self._lock:
            self._km = km
            if self.fired:
                _kill(km)

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.is_set():
            if self.cancel is not None and self.cancel.is_set():
                return self._fire("cancelled")
            if self.deadline and time.monotonic() >= self.deadline:
                return self._fire("timeout")
            self._stopped.wait(0.1)

    def _fire(self, reason: str) -> None:
        with self._lock:
            self.fired = reason
            if self._km is not None:
                _kill(self._km)


def kernel_manager(kernel_name: str, *, sandbox=None):
    """A (not yet started) kernel manager talking over Unix sockets, not TCP: no port to race
    another kernel for, and nothing listening on the network.

    With `sandbox` (a runtime.sandbox.Sandbox, passed in since DAG files load that module
    themselves) the kernel starts inside it, with its connection file and sockets in the
    sandbox's private folder and the sandbox's environment, whatever the caller asks for.
    """
    from jupyter_client.manager import AsyncKernelManager

    if sandbox is not None:
        km = _sandboxed_manager_class()(kernel_name=kernel_name, transport="ipc",
                                        ip=str(sandbox.connection_dir / "k"))
        km.sandbox = sandbox
        km.connection_file = str(sandbox.connection_dir / "kernel.json")
        return km
    folder = os.path.join(tempfile.gettempdir(), "loom-kernels")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(folder, uuid.uuid4().hex[:16]))


_SANDBOXED = []


def _sandboxed_manager_class():
    """jupyter_client's AsyncKernelManager launching its kernel through the sandbox's command
    line (the documented hook for launching kernels differently), defined on first use so that
    importing this module stays cheap."""
    if _SANDBOXED:
        return _SANDBOXED[0]
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        sandbox = None

        def write_connection_file(self, **kwargs) -> None:
            super().write_connection_file(**kwargs)
            if self.sandbox.as_nobody:  # the kernel runs as nobody: let it read its own file
                os.chown(self.connection_file, self.sandbox.uid, self.sandbox.uid)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.update(env=self.sandbox.environment(), cwd=str(self.sandbox.base))
            for attempt in range(3):
                try:
                    return await self._launch_sandboxed(kernel_cmd, **kw)
                except (OSError, RuntimeError, ValueError) as e:
                    # Under load, bwrap now and then fails to set up the new network namespace's
                    # loopback ("Failed RTM_NEWADDR"); a new namespace does not.
                    if self.provisioner is not None and self.provisioner.process is not None:
                        self.provisioner.process.kill()
                        self.provisioner.process.wait()
                    self.sandbox.network_stop()
                    if attempt == 2:
                        raise RuntimeError(f"the sandbox did not start: {e}") from e

        async def _launch_sandboxed(self, kernel_cmd, **kw):
            sandbox = self.sandbox
            if sandbox.config.network != "egress":
                return await super()._async_launch_kernel(sandbox.command(kernel_cmd), **kw)
            # bwrap reports the sandbox's pid on info_fd and waits on block_fd until slirp4netns has
            # wired its network namespace, so the kernel never runs without its network.
            # slirp4netns exits when exit_w, held only by the sandbox's processes, closes.
            info_r, info_w = os.pipe()
            block_r, block_w = os.pipe()
            exit_r, exit_w = os.pipe()
            try:
                try:
                    await super()._async_launch_kernel(sandbox.command(kernel_cmd, info_fd=info_w, block_fd=block_r),
                                                       pass_fds=(info_w, block_r, exit_w), **kw)
                finally:
                    for fd in (info_w, block_r, exit_w):
                        os.close(fd)
                info = b""
                while chunk := os.read(info_r, 4096):
                    info += chunk
                if not info:
                    raise RuntimeError("bubblewrap exited before the sandbox started")
                sandbox.start_network(json.loads(info)["child-pid"], exit_fd=exit_r)
                os.write(block_w, b"1")
            finally:
                for fd in (info_r, block_w, exit_r):
                    os.close(fd)

        def cleanup_ipc_files(self) -> None:
            super().cleanup_ipc_files()
            # Off the notebook's path: removing a sandbox's folders takes ~70 ms (the kernel lets
            # go of their mounts lazily); a worker killed meanwhile leaves them to its next sweep.
            threading.Thread(target=self.sandbox.remove, name="loom-sandbox-remove", daemon=True).start()

    _SANDBOXED.append(SandboxedKernelManager)
    return SandboxedKernelManager


def _kill(km) -> None:
    """SIGKILL the kernel's process group (the kernel and whatever it started)."""
    provisioner = getattr(km, "provisioner", None)
    pgid, pid = getattr(provisioner, "pgid", None), getattr(provisioner, "pid", None)
    try:
        if pgid:
            os.killpg(pgid, signal.SIGKILL)
        elif pid:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class _Client(PapermillNotebookClient):
    """papermill's client, plus: set env and cwd inside a pre-started kernel, and record
    which cell was running so a dead or killed kernel can be blamed on it."""

    def __init__(self, nb_man, *, prologue: str = "", state: dict, watchdog: _Watchdog, **kw):
        super().__init__(nb_man, **kw)
        self.extra_arguments = [*KERNEL_ARGUMENTS, *self.extra_arguments]
        self.prologue = prologue
        self.state = state
        self.watchdog = watchdog

    async def async_start_new_kernel_client(self):
        """nbclient's, with jupyter_client's wait_for_ready minus its fixed 0.2 s IOPub flush: stray
        IOPub messages of kernel_info are ignored anyway, since outputs are matched to their request."""
        self.kc = self.km.client()
        await ensure_async(self.kc.start_channels())
        deadline = time.monotonic() + self.startup_timeout
        while True:
            self.kc.kernel_info()
            try:
                reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply and reply["msg_type"] == "kernel_info_reply":
                try:
                    await ensure_async(self.kc.iopub_channel.get_msg(timeout=0.05))  # IOPub is connected
                    break
                except Empty:
                    pass
            if not await ensure_async(self.km.is_alive()):
                raise RuntimeError("the kernel died before it replied to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer within {self.startup_timeout} s")
        self.kc.allow_stdin = False
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def papermill_execute_cells(self):
        self.watchdog.arm(self.km)
        if self.state.get("budget"):
            self.state["budget"].limits.kernel_apply(getattr(self.km.provisioner, "pid", None))
            if code := self.state["budget"].limits.kernel_code():
                self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
        if self.prologue:
            # silent and out of history: the variables (connection secrets) never reach the notebook.
            reply = self.wait_for_reply(self.kc.execute(self.prologue, silent=True, store_history=False))
            if not reply or reply["content"].get("status") != "ok":
                raise RuntimeError("could not set the kernel's environment")
        for index, cell in enumerate(self.nb.cells):
            self.state["cell_index"] = index
            try:
                self.nb_man.cell_start(cell, index)
                self.execute_cell(cell, index)
            except CellExecutionError as ex:
                self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=ex)
                break
            finally:
                self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
        self.state.pop("cell_index", None)

    # Output limits (runtime/limits.py): each message is judged as it arrives, before nbclient
    # keeps it in the notebook, so a notebook printing gigabytes never holds them in the worker.
    def output(self, outs, msg, display_id, cell_index):
        budget = self.state.get("budget")
        if budget is None or self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)
        if self.clear_before_next_output:  # nbclient clears before the next output it keeps: now, then
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
            budget.cleared(cell_index)
        return super().output(outs, msg, display_id, cell_index) if budget.admit(msg, cell_index) else None

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if self.state.get("budget") and not outs:
            self.state["budget"].cleared(cell_index)

    def _update_display_id(self, display_id, msg):
        budget = self.state.get("budget")
        if budget is None or budget.admit(msg, self.state.get("cell_index", -1)):
            super()._update_display_id(display_id, msg)


class LoomEngine(NBClientEngine):
    """papermill's nbclient engine with a kernel Loom may have started, and failures recorded
    in `state` instead of raised, so the executed notebook survives a dead kernel."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, *, km=None, kernel_env=None, extra_env=None,
                                 kernel_cwd=None, watchdog, state, start_timeout=60, execution_timeout=None, **kwargs):
        prologue = ""
        fresh = km is None
        if fresh:
            km = kernel_manager(kernel_name)
        else:
            # The kernel started before this notebook was known; bring it to where a fresh one would be.
            prologue = f"import os as _o\n_o.environ.update({extra_env or {}!r})\n"
            prologue += f"_o.chdir({kernel_cwd!r})\n" if kernel_cwd else ""
            prologue += "del _o\n"
            prologue += km.sandbox.prologue() if getattr(km, "sandbox", None) is not None else ""
        client = _Client(
            nb_man, km=km, prologue=prologue, state=state, watchdog=watchdog, kernel_name=kernel_name,
            startup_timeout=start_timeout, timeout=execution_timeout, log_output=False,
            **{k: v for k, v in kwargs.items() if k not in ("input_path", "log_output", "stdout_file", "stderr_file")},
        )
        launch = {"env": kernel_env, **({"cwd": kernel_cwd} if kernel_cwd else {})} if fresh else {}
        try:
            return client.execute(cleanup_kc=False, **launch)
        except Exception as e:  # noqa: BLE001 - a dead or unstartable kernel fails the notebook, with its notebook
            state["error"] = e
            return nb_man.nb
        finally:
            _teardown(client)


def _teardown(client: _Client) -> None:
    if client.kc is not None:
        client.kc.stop_channels()
    if client.km is not None:
        kernel_dispose(client.km)


def kernel_dispose(km) -> None:
    """Kill the kernel at once (it served its one notebook, so a graceful shutdown, ~0.3 s, buys
    nothing), move a sandboxed kernel's files to its notebook's folder, and remove its files."""
    if getattr(km, "provisioner", None) is not None:
        _kill(km)
        process = getattr(km.provisioner, "process", None)
        if process is not None:
            try:
                process.wait(timeout=10)
            except Exception:  # noqa: BLE001
                pass
    sandbox = getattr(km, "sandbox", None)
    try:
        if sandbox is not None:
            sandbox.leave()
    finally:
        km.cleanup_connection_file()
        km.cleanup_ipc_files()


papermill_engines.register(ENGINE_NAME, LoomEngine)
