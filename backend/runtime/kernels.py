"""Fresh kernels started ahead of need. No Django here.

Most of a trivial notebook's time is its kernel starting (~0.85 s of imports in the kernel
process). A KernelPool keeps `size` kernels launched and idle, so a notebook takes one that
is already up. A kernel serves exactly one notebook (notebook_execute shuts it down), so no
state leaks between notebooks. Idle kernels carry no notebook-specific environment: notebook_execute sets a
notebook's variables and working directory inside the kernel before its first cell.

With a sandbox config, every kernel, pooled or not, starts in its own fresh bubblewrap sandbox
(runtime/sandbox.py) whose view is `view_at` (the artifacts root): the notebook's folder and
its run's files are bound into that view only when a notebook takes the kernel.

Refilling costs CPU (~0.5-0.85 s per kernel), which is exactly what running notebooks need:
refilling right after each take made a chain of notebooks compete with its own replacement
kernels. So the pool refills one kernel at a time, offered once it answers kernel_info, and
only once no kernel was taken for `quiet_s`. Under sustained load it still adds one
kernel every `busy_every_s`, so a drained pool never starves.
"""
import logging
import os
import tempfile
import threading
import time
from collections import deque

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from runtime.engine import KERNEL_ARGUMENTS, kernel_alive, kernel_dispose, kernel_manager
from runtime.execute import kernel_environment
from runtime.sandbox import Sandbox, SandboxConfig, SandboxUnavailable

log = logging.getLogger(__name__)


class KernelPool:
    """Keeps up to `size` started, unused kernels of `kernel_name`; thread-safe."""

    def __init__(self, *, size: int, kernel_name: str = "python3", cwd: str | None = None,
                 sandbox: SandboxConfig | None = None, view_at: str | None = None,
                 quiet_s: float = 0.5, busy_every_s: float = 3.0, python: str | None = None):
        self.size = size
        self.sandbox = sandbox
        self.python = python  # unsandboxed kernels' interpreter (SandboxConfig.unsandboxed_python)
        self.view_at = view_at or tempfile.gettempdir()
        self.quiet_s = quiet_s
        self.busy_every_s = busy_every_s
        self.pid = os.getpid()  # kernels are children of this process; a forked child needs its own pool
        self.kernel_name = kernel_name
        self.cwd = cwd or tempfile.gettempdir()
        self._idle: deque[AsyncKernelManager] = deque()
        self._wanted = threading.Condition()
        self._closed = False
        self._starting = False  # the fill thread is starting a kernel
        self._last_take = 0.0  # time.monotonic() of the last take
        self._busy_mark = 0.0  # ... when the pool stopped being quiet, or last refilled while busy
        self._thread: threading.Thread | None = None

    def start(self) -> "KernelPool":
        if self.size > 0 and self._thread is None:
            # One thread starts every kernel, on its own event loop, so managers never cross loops mid-start.
            self._thread = threading.Thread(target=self._fill, name="loom-kernel-pool", daemon=True)
            self._thread.start()
        return self

    def take(self, kernel_name: str, wait_s: float = 1.0) -> AsyncKernelManager | None:
        """A started, unused kernel of that name, or None (the caller then starts its own).
        With none idle but one starting, waits up to `wait_s` for that one."""
        if kernel_name != self.kernel_name:
            return None
        with self._wanted:
            now = time.monotonic()
            if now - self._last_take >= self.quiet_s:
                self._busy_mark = now
            self._last_take = now
            # A kernel about to be ready is sooner than one the caller would start now.
            self._wanted.wait_for(lambda: self._idle or not self._starting or self._closed, timeout=wait_s)
            while self._idle:
                km = self._idle.popleft()
                self._wanted.notify()
                if kernel_alive(km):
                    return km
                _discard(km)
        return None

    def fresh(self, kernel_name: str) -> AsyncKernelManager:
        """A new, not yet started kernel manager of that name, sandboxed like the pool's."""
        sandbox = Sandbox(self.sandbox, view_at=self.view_at) if self.sandbox else None
        return kernel_manager(kernel_name, sandbox=sandbox, python=None if sandbox else self.python)

    def idle(self) -> int:
        with self._wanted:
            return len(self._idle)

    def close(self) -> None:
        """Stop refilling and kill the idle kernels."""
        with self._wanted:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._wanted.notify_all()
        for km in idle:
            _discard(km)

    def _fill(self) -> None:
        while True:
            with self._wanted:
                while not self._closed:
                    if len(self._idle) >= self.size:
                        self._wanted.wait()
                        continue
                    now = time.monotonic()
                    quiet_in = self._last_take + self.quiet_s - now
                    busy_in = self._busy_mark + self.busy_every_s - now
                    if quiet_in <= 0 or busy_in <= 0:
                        if quiet_in > 0:
                            self._busy_mark = now
                        break
                    self._wanted.wait(min(quiet_in, busy_in))
                if self._closed:
                    return
                self._starting = True
            try:
                km = self.fresh(self.kernel_name)
                run_sync(km.start_kernel)(env=kernel_environment(), cwd=self.cwd, extra_arguments=KERNEL_ARGUMENTS)
            except Exception:  # noqa: BLE001 - a pool that cannot start kernels must not kill the worker
                log.exception("could not pre-start a %s kernel; notebooks will start their own", self.kernel_name)
                with self._wanted:
                    self._starting = False
                    self._wanted.notify_all()
                    self._wanted.wait(5)
                continue
            finally_ready = _wait_ready(km)
            with self._wanted:
                self._starting = False
                self._wanted.notify_all()
                if self._closed:
                    _discard(km)
                    return
                if finally_ready:
                    self._idle.append(km)
                else:
                    _discard(km)


def _wait_ready(km: AsyncKernelManager, timeout: float = 60) -> bool:
    """Whether the kernel answered kernel_info (its imports are done) within `timeout`. The
    pool offers a kernel only after this, and only then starts the next, so refills never
    import side by side; and no notebook client ever shares the kernel with this one (two
    clients on a starting kernel made the notebook's wait for a reply forever)."""
    kc = km.client()
    try:
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - died or never answered: not offered
        log.warning("a pre-started kernel did not become ready; discarded")
        return False
    finally:
        kc.stop_channels()


def _discard(km: AsyncKernelManager) -> None:
    try:
        kernel_dispose(km)
    except Exception:  # noqa: BLE001
        log.exception("could not discard a kernel")


class RefusedKernelManager(AsyncKernelManager):
    """Stands for a kernel that must not start: its start raises SandboxUnavailable naming
    `problem`, so the notebook fails with that message instead of running unsandboxed."""

    problem = ""

    async def _async_pre_start_kernel(self, **kw):
        raise SandboxUnavailable(self.problem)
