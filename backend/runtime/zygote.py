"""Cheap kernels for one run: a warm interpreter in the run's sandbox forks each kernel. No Django.

A kernel's start is mostly its imports (~0.5-0.85 s of CPU); a fan-out of 1,000 items paid it
1,000 times, plus a sandbox (bwrap, slirp4netns) each. A `RunSandbox` is one sandbox per
(tenant, run) on a worker, in which runtime/zygote_main.py has imported ipykernel once; each
notebook of that run gets a kernel forked from it (a fresh process: no state of an earlier
notebook, whose process is gone), in a few milliseconds. runtime/run_sandboxes.py keeps a worker's
run sandboxes.

Isolation: a run sandbox serves one tenant's one run, never another (`RunSandboxes` keys them
so); other runs and tenants stay as invisible as with one sandbox per kernel (docs/sandbox.md).
Within it, the kernels of the same run share the sandbox's PID namespace, /tmp and process
limit (LOOM_KERNEL_MAX_PROCS times the kernels it may hold), and each has its own writable
folder: what it wrote is moved to its node run's folder when it ends, as with pooled kernels.
"""
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from runtime.sandbox import NOBODY, WORK, Sandbox, SandboxConfig
from runtime.trees import link_or_copy, link_tree, move_tree

ZYGOTE_FILE = Path(__file__).with_name("zygote_main.py")
LIB = "/loom/lib"  # where the sandbox sees zygote_main.py
KERNEL_NAME = "python3"  # the only kernel a fork of ipykernel can be
# bwrap dies with the thread that started it (--die-with-parent is PR_SET_PDEATHSIG): start every
# run sandbox from this one long-lived thread, never from a task's thread.
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loom-run-sandbox")


class RunSandbox:
    """One run's sandbox on this worker, with its warm interpreter; thread-safe."""

    def __init__(self, config: SandboxConfig, *, view_at: str | Path, slots: int):
        self.platform = config  # a kernel's limits are judged against the platform's
        self.sandbox = Sandbox(replace(config, max_procs=config.max_procs * max(1, slots)), view_at=view_at)
        self.users = 0  # kernels forked and not yet disposed of
        self.last_used = time.monotonic()
        self._fork_lock, self._fs_lock = threading.Lock(), threading.Lock()
        # The view's entries this sandbox made (folders linked in, items' links): looked up here,
        # not on disk, as each item's enter goes over its run folder, thousands of entries.
        self._viewed: set[str] = set()
        self._control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # the child's pid, seen from here
        try:
            self.process = _spawner.submit(self._start, child.fileno()).result()
        except BaseException:
            self._control.close()
            self.sandbox.remove()
            raise
        finally:
            child.close()

    def _start(self, control_fd: int) -> subprocess.Popen:
        """bwrap running zygote_main.py with `control_fd`; returns once the sandbox is built
        (its network wired first, with egress), like runtime/engine.py's sandboxed kernels."""
        sandbox = self.sandbox
        started_r, started_w = os.pipe()
        fds = {"started": started_w}
        if sandbox.config.network == "egress":
            (info_r, fds["info"]), (fds["block"], block_w), (exit_r, fds["exit"]) = os.pipe(), os.pipe(), os.pipe()
        argv = sandbox.command([sandbox.config.python, "-m", "zygote_main", str(control_fd)], started_fd=started_w,
                               info_fd=fds.get("info"), block_fd=fds.get("block"),
                               extra_ro=((str(ZYGOTE_FILE), f"{LIB}/zygote_main.py"),))
        try:
            process = subprocess.Popen(argv, pass_fds=(control_fd, *fds.values()), cwd=str(sandbox.base),
                                       env={**sandbox.environment(), "PYTHONPATH": LIB, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        finally:
            for fd in fds.values():
                os.close(fd)
        try:
            if sandbox.config.network == "egress":
                try:
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
            if os.read(started_r, 1) != b"1":
                raise RuntimeError("bubblewrap exited before the warm interpreter started")
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            os.close(started_r)
        return process

    def use(self, delta: int) -> None:
        """Count a kernel in (+1) or out (-1)."""
        with self._fs_lock:
            self.users += delta
            self.last_used = time.monotonic()

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, *, connection_file: str, env: dict, cwd: str, timeout: float = 60) -> int:
        """A new kernel process on `connection_file`; its pid in this worker's PID namespace."""
        request = json.dumps({"id": uuid.uuid4().hex, "connection_file": connection_file, "env": env, "cwd": cwd})
        with self._fork_lock:
            self._control.settimeout(timeout)
            self._control.send(request.encode())
            data, ancillary, _, _ = self._control.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        if not data:
            raise RuntimeError("the run's warm interpreter exited")
        for level, kind, creds in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                return struct.unpack("3i", creds[:struct.calcsize("3i")])[0]
        raise RuntimeError("the forked kernel did not say who it is")

    def enter(self, item: "ItemSandbox", cwd: Path, shared: Path) -> None:
        """`cwd` (under view_at) becomes the item's own writable folder, and the run's files under
        `shared` readable, like Sandbox.enter: each node folder is linked into the view once
        (those of finished upstream nodes do not change; running kernels' are links already)."""
        sandbox, view_at = self.sandbox, self.sandbox.view_at
        if not cwd.is_relative_to(view_at) or cwd == view_at:
            raise ValueError(f"{cwd} is not under this sandbox's view {view_at}")
        leaf = uuid.uuid4().hex[:12]
        work = sandbox.base / "work" / leaf
        work.mkdir(mode=0o700)
        if sandbox.as_nobody:
            os.chown(work, NOBODY, NOBODY)
        view = sandbox.base / "view"
        target = view / cwd.relative_to(view_at)
        with self._fs_lock:
            if shared.is_relative_to(view_at) and shared.is_dir():
                into, own = f"{view / shared.relative_to(view_at)}/", str(cwd)
                for entry in os.scandir(shared):
                    if (into + entry.name) in self._viewed or entry.path == own or not entry.is_dir(follow_symlinks=False):
                        continue
                    link_tree(Path(entry.path), Path(into + entry.name), skip=cwd)
                    self._viewed.add(into + entry.name)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            if target.is_dir() and not target.is_symlink():
                _rmtree(target)
            target.unlink(missing_ok=True)
            target.symlink_to(f"{WORK}/{leaf}")
            self._viewed.add(str(target))
        for existing in cwd.iterdir() if cwd.is_dir() else ():  # an earlier attempt's files
            if existing.is_file() and not existing.is_symlink():
                link_or_copy(existing, work / existing.name)
        item.cwd, item.leaf = cwd, leaf

    def leave(self, item: "ItemSandbox") -> None:
        if item.leaf is None:
            return
        work = self.sandbox.base / "work" / item.leaf
        if item.cwd is not None and work.is_dir():
            move_tree(work, item.cwd)
        _rmtree(work)
        with self._fs_lock:
            link = self.sandbox.base / "view" / item.cwd.relative_to(self.sandbox.view_at)
            link.unlink(missing_ok=True)
            self._viewed.discard(str(link))  # its folder, complete now, is linked in by the next enter
        item.cwd = item.leaf = None

    def close_later(self) -> None:
        """close(), on the thread that started the sandbox, off the caller's path."""
        _spawner.submit(self.close)

    def close(self) -> None:
        """Stop the warm interpreter (it kills the kernels it forked) and remove the sandbox."""
        self._control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.sandbox.remove()


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class ItemSandbox(Sandbox):
    """What runtime/execute.py and engine.py see of one forked kernel's sandbox: the run
    sandbox's folders, its own limits (Sandbox.limit/prologue/explain) and workspace."""

    def __init__(self, run: RunSandbox):  # not Sandbox.__init__, which builds a new sandbox
        self.run = run
        self.config = run.platform
        self.view_at = run.sandbox.view_at
        self.as_nobody, self.uid = run.sandbox.as_nobody, run.sandbox.uid
        self.base = run.sandbox.base
        self.memory_mb, self.max_procs = self.config.memory_mb, self.config.max_procs
        self.sources: dict[str, str] = {}
        self.cwd: Path | None = None
        self.leaf: str | None = None
        self.slirp = None

    def enter(self, *, cwd, shared=None) -> None:
        cwd = Path(cwd).absolute()
        self.run.enter(self, cwd, Path(shared).absolute() if shared else cwd.parent)

    def leave(self) -> None:
        self.run.leave(self)

    def network_stop(self) -> None:
        """The run's network outlives this kernel."""

    def remove(self) -> None:
        """The run sandbox outlives this kernel."""


class _Forked:
    """The subprocess.Popen that jupyter_client's provisioner expects, for a process forked by
    the warm interpreter (not this process's child): polled and waited on through a pidfd."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None
        try:
            self._fd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._fd, self.returncode = None, -signal.SIGKILL

    def poll(self):
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self._exited()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._exited()
        return self.returncode

    def _exited(self):
        self.returncode = -signal.SIGKILL  # its parent, the warm interpreter, reaps it and knows more
        os.close(self._fd)

    def send_signal(self, sig):
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is forked by a RunSandbox (instead of launched by Popen).

    `shelve(kc)`, set for a node with `reuse_kernel`, takes the kernel (and its client) back once
    a notebook succeeded on it, for the node's next item; `kept_kc` is that client while reused."""

    sandbox: ItemSandbox | None = None
    shelve = None
    kept_kc = None

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if self.sandbox.as_nobody:  # the kernel runs as nobody: let it read its own file
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.uid)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        run = self.sandbox.run
        cwd = f"{WORK}/{self.sandbox.leaf}" if self.sandbox.leaf else WORK
        pid = run.fork(connection_file=self.connection_file, env=self.sandbox.environment(), cwd=cwd)
        provisioner = self.provisioner
        provisioner.process, provisioner.pid = _Forked(pid), pid
        try:
            provisioner.pgid = os.getpgid(pid)  # its own group (setsid): what the watchdog kills
        except ProcessLookupError:
            provisioner.pgid = None
        self._reconcile_connection_info(provisioner.connection_info)

    def cleanup_ipc_files(self) -> None:
        super().cleanup_ipc_files()
        if self.sandbox is not None and not getattr(self, "_released", False):
            self._released = True
            self.sandbox.run.use(-1)
