"""Fresh kernels started ahead of need. No Django here.

Most of a trivial notebook's time is its kernel starting (~0.85 s of imports in the kernel
process). A KernelPool keeps `size` kernels launched and idle, so a notebook takes one that
is already up, and a replacement starts in the background while the notebook runs. A kernel
serves exactly one notebook (notebook_execute shuts it down), so no state leaks between
notebooks. Idle kernels carry no notebook-specific environment: notebook_execute sets a
notebook's variables and working directory inside the kernel before its first cell.
"""
import logging
import os
import tempfile
import threading
from collections import deque

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from runtime.execute import kernel_environment, kernel_manager

log = logging.getLogger(__name__)


class KernelPool:
    """Keeps up to `size` started, unused kernels of `kernel_name`; thread-safe."""

    def __init__(self, *, size: int, kernel_name: str = "python3", cwd: str | None = None):
        self.size = size
        self.pid = os.getpid()  # kernels are children of this process; a forked child needs its own pool
        self.kernel_name = kernel_name
        self.cwd = cwd or tempfile.gettempdir()
        self._idle: deque[AsyncKernelManager] = deque()
        self._wanted = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> "KernelPool":
        if self.size > 0 and self._thread is None:
            # One thread starts every kernel, on its own event loop, so managers never cross loops mid-start.
            self._thread = threading.Thread(target=self._fill, name="loom-kernel-pool", daemon=True)
            self._thread.start()
        return self

    def take(self, kernel_name: str) -> AsyncKernelManager | None:
        """A started, unused kernel of that name, or None (the caller then starts its own)."""
        if kernel_name != self.kernel_name:
            return None
        with self._wanted:
            while self._idle:
                km = self._idle.popleft()
                self._wanted.notify()
                if _alive(km):
                    return km
                _discard(km)
        return None

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
                while not self._closed and len(self._idle) >= self.size:
                    self._wanted.wait()
                if self._closed:
                    return
            try:
                km = kernel_manager(self.kernel_name)
                run_sync(km.start_kernel)(env=kernel_environment(), cwd=self.cwd)
            except Exception:  # noqa: BLE001 - a pool that cannot start kernels must not kill the worker
                log.exception("could not pre-start a %s kernel; notebooks will start their own", self.kernel_name)
                with self._wanted:
                    self._wanted.wait(5)
                continue
            with self._wanted:
                if self._closed:
                    _discard(km)
                    return
                self._idle.append(km)


def _alive(km: AsyncKernelManager) -> bool:
    process = getattr(km.provisioner, "process", None)
    return process is not None and process.poll() is None


def _discard(km: AsyncKernelManager) -> None:
    try:
        km.provisioner.process.kill()
        km.provisioner.process.wait(timeout=5)
        km.cleanup_connection_file()
        km.cleanup_ipc_files()
    except Exception:  # noqa: BLE001
        pass
