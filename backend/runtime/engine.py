"""How a notebook's kernel is started, driven and stopped: Loom's papermill engine. No Django
here, and nothing of Loom: DAG files carry this source (runtime/execute.py loads it).

- `kernel_manager`: a kernel manager on Unix sockets, optionally inside a runtime.sandbox.Sandbox
  (its command line wrapped in bwrap, its connection file in the sandbox's private folder);
- `LoomEngine` / `_Client`: papermill's nbclient engine with a kernel Loom may have pre-started
  (its environment and folder set inside it before the first cell), the output limits applied
  as each message arrives, and a dead kernel recorded instead of raised;
- `Watchdog`: the whole-notebook timeout and the cancel event, both of which kill the kernel;
- `kernel_dispose`: a kernel serves one notebook (or, for a node with `reuse_kernel`, the items
  runtime/zygote.py shelves it for), then is killed and its files removed.
"""
import json
import os
import signal
import tempfile
import threading
import time
import uuid
from queue import Empty

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellExecutionError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

ENGINE_NAME = "loom"
# Every kernel starts with these: no IPython input history, which notebooks never read and which
# kernels would otherwise share in one SQLite file (lock errors printed into a node's output).
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


class Watchdog:
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


def kernel_manager(kernel_name: str, *, sandbox=None, python: str | None = None):
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
    ip = os.path.join(folder, uuid.uuid4().hex[:16])
    if not python:
        return AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=ip)
    km = _own_python_manager_class()(kernel_name=kernel_name, transport="ipc", ip=ip)
    km.python = python
    return km


def _own_python_manager_class():
    """AsyncKernelManager whose Python kernel (`-m ipykernel_launcher`) runs with `python`."""
    if _OWN_PYTHON:
        return _OWN_PYTHON[0]
    from jupyter_client.manager import AsyncKernelManager

    class OwnPythonKernelManager(AsyncKernelManager):
        python = None

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if self.python and cmd[1:3] == ["-m", "ipykernel_launcher"]:
                cmd[0] = self.python
            return cmd

    _OWN_PYTHON.append(OwnPythonKernelManager)
    return OwnPythonKernelManager


_OWN_PYTHON = []


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
                    # loopback ("Failed RTM_NEWADDR"); a new namespace does not (_launch_sandboxed).
                    if self.provisioner is not None and self.provisioner.process is not None:
                        self.provisioner.process.kill()
                        self.provisioner.process.wait()
                    self.sandbox.network_stop()
                    if attempt == 2:
                        raise RuntimeError(f"the sandbox did not start: {e}") from e

        async def _launch_sandboxed(self, kernel_cmd, **kw):
            sandbox = self.sandbox
            # The launcher writes a byte on `started` once bwrap has built the sandbox and run it;
            # end of file instead: bwrap died setting it up (under load it may fail to configure
            # the new network namespace's loopback, "Failed RTM_NEWADDR", after it reported the pid).
            started_r, started_w = os.pipe()
            try:
                if sandbox.config.network != "egress":
                    try:
                        await super()._async_launch_kernel(sandbox.command(kernel_cmd, started_fd=started_w),
                                                           pass_fds=(started_w,), **kw)
                    finally:
                        os.close(started_w)
                else:
                    await self._launch_egress(kernel_cmd, started_w, **kw)
                if os.read(started_r, 1) != b"1":
                    raise RuntimeError("bubblewrap exited before the kernel started")
            finally:
                os.close(started_r)

        async def _launch_egress(self, kernel_cmd, started_w: int, **kw):
            sandbox = self.sandbox
            # bwrap reports the sandbox's pid on info_fd and waits on block_fd until slirp4netns has
            # wired its network namespace, so the kernel never runs without its network.
            # slirp4netns exits when exit_w, held only by the sandbox's processes, closes.
            info_r, info_w = os.pipe()
            block_r, block_w = os.pipe()
            exit_r, exit_w = os.pipe()
            try:
                try:
                    await super()._async_launch_kernel(
                        sandbox.command(kernel_cmd, info_fd=info_w, block_fd=block_r, started_fd=started_w),
                        pass_fds=(info_w, block_r, exit_w, started_w), **kw)
                finally:
                    for fd in (info_w, block_r, exit_w, started_w):
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

    def __init__(self, nb_man, *, prologue: str = "", state: dict, watchdog: Watchdog, **kw):
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
        # The notebook's limits, then the environment of a pre-started kernel, in one request (each
        # costs a round trip): silent and out of history, so the variables (connection secrets)
        # never reach the notebook.
        code = (self.state["budget"].kernel_code() if self.state.get("budget") else "") + self.prologue
        if code:
            reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
            if not reply or reply["content"].get("status") != "ok":
                raise RuntimeError("could not set the kernel's limits and environment")
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
            self._stream_live(msg, cell_index)
            return super().output(outs, msg, display_id, cell_index)
        if self.clear_before_next_output:  # nbclient clears before the next output it keeps: now, then
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
            budget.cleared(cell_index)
        if not budget.admit(msg, cell_index):
            return None
        self._stream_live(msg, cell_index)
        return super().output(outs, msg, display_id, cell_index)

    def _stream_live(self, msg, cell_index) -> None:
        """Hand what the kernel prints, as it arrives, to the caller's `on_stream` (live logs)."""
        if msg["msg_type"] == "stream" and self.state.get("on_stream") is not None:
            self.state["on_stream"](cell_index, msg["content"].get("name", "stdout"), msg["content"].get("text", ""))

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
                                 kernel_cwd=None, watchdog, state, start_timeout=60, execution_timeout=None,
                                 kernel_python=None, **kwargs):
        prologue = ""
        fresh = km is None
        kept_kc = getattr(km, "kept_kc", None)  # a kernel its node reuses, with its client
        if fresh:
            km = kernel_manager(kernel_name, python=kernel_python)
        else:
            # The kernel started before this notebook was known; bring it to where a fresh one would
            # be. A reused one also loses the earlier item's namespace (not its imported modules) and
            # counts executions from 1 again, once in its new folder (reset reads the current one).
            prologue = f"import os as _o\n_o.environ.update({extra_env or {}!r})\n"
            prologue += f"_o.chdir({kernel_cwd!r})\n" if kernel_cwd else ""
            prologue += "del _o\n"
            prologue += "get_ipython().reset(new_session=True)\n" if kept_kc is not None else ""
            prologue += km.sandbox.prologue() if getattr(km, "sandbox", None) is not None else ""
        client = _Client(
            nb_man, km=km, prologue=prologue, state=state, watchdog=watchdog, kernel_name=kernel_name,
            startup_timeout=start_timeout, timeout=execution_timeout, log_output=False,
            **{k: v for k, v in kwargs.items() if k not in ("input_path", "log_output", "stdout_file", "stderr_file")},
        )
        client.kc = kept_kc
        launch = {"env": kernel_env, **({"cwd": kernel_cwd} if kernel_cwd else {})} if fresh else {}
        try:
            return client.execute(cleanup_kc=False, **launch)
        except Exception as e:  # noqa: BLE001 - a dead or unstartable kernel fails the notebook, with its notebook
            state["error"] = e
            return nb_man.nb
        finally:
            if getattr(km, "shelve", None) is not None and client.kc is not None and "error" not in state and not watchdog.fired:
                state["kept"] = client.kc  # runtime.execute shelves it if the notebook succeeded, else disposes of it
            else:
                kernel_dispose(km, client.kc)


def kernel_alive(km) -> bool:
    """Whether the kernel's process was started and still runs."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return process is not None and process.poll() is None


def kernel_dispose(km, kc=None) -> None:
    """Close the kernel's client `kc`, if any, and kill the kernel at once (it served its notebook,
    so a graceful shutdown, ~0.3 s, buys nothing), move a sandboxed kernel's files to its
    notebook's folder, and remove its files."""
    if kc is not None:
        kc.stop_channels()
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
