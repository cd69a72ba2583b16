"""This worker's run sandboxes (runtime/zygote.py), at most a few at once, and the kernels that
nodes with `reuse_kernel` keep between their items: which forked kernel a notebook gets. No Django.
"""
import threading
import time
import uuid
from pathlib import Path

from runtime.engine import kernel_alive, kernel_dispose
from runtime.sandbox import SandboxConfig
from runtime.zygote import KERNEL_NAME, ForkedKernelManager, ItemSandbox, RunSandbox


class RunSandboxes:
    """This worker's run sandboxes, keyed by (tenant, run): at most `max_live`, each closed once
    no kernel of it was used for `idle_s`. Thread-safe.

    Kernels of nodes with `reuse_kernel` wait on a shelf between items, keyed by (tenant, run,
    node, thread): only the same node of the same run takes one back, on the thread whose event
    loop its client's sockets belong to; one idle for `shelf_s` is disposed of."""

    def __init__(self, config: SandboxConfig, *, view_at: str | Path, slots: int, max_live: int = 4,
                 idle_s: float = 30, shelf_s: float = 5):
        self.config, self.view_at, self.slots = config, Path(view_at), slots
        self.max_live, self.idle_s, self.shelf_s = max_live, idle_s, shelf_s
        self._live: dict[tuple, RunSandbox] = {}
        self._shelf: dict[tuple, tuple[ForkedKernelManager, object, float]] = {}
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._sweep_forever, name="loom-run-sandbox-sweep", daemon=True).start()

    def kernel_manager(self, kernel_name: str, key: tuple, *, reuse: str | None = None) -> ForkedKernelManager | None:
        """A not yet started kernel manager whose kernel the run `key`'s sandbox forks, or None
        when this kernel cannot be forked (another kernel than ipykernel; every sandbox busy).
        With `reuse` (a node id), the kernel an earlier item of that node left on this thread's
        shelf, started (its `kept_kc` set), if there is one alive; the kernel goes back on the
        shelf when its notebook succeeds."""
        if kernel_name != KERNEL_NAME or self._closed:
            return None
        shelf_key = (*key, reuse, threading.get_ident()) if reuse is not None else None
        if shelf_key is not None:
            with self._lock:
                kept = self._shelf.pop(shelf_key, None)
            if kept is not None:
                km, kc, _ = kept
                if km.sandbox.run.alive() and kernel_alive(km):
                    km.kept_kc = kc
                    return km
                kernel_dispose(km, kc)
        km = self._fork_manager(kernel_name, key)
        if km is not None and shelf_key is not None:
            km.shelve = lambda kc: self._put(shelf_key, km, kc)
        return km

    def _put(self, shelf_key: tuple, km: ForkedKernelManager, kc) -> None:
        """Keep a kernel whose notebook succeeded for its node's next item (its files moved to
        that notebook's folder first, as when it is disposed of)."""
        km.sandbox.leave()
        km.kept_kc = None
        with self._lock:
            if self._closed:
                kept = (km, kc, 0)
            else:
                kept, self._shelf[shelf_key] = self._shelf.get(shelf_key), (km, kc, time.monotonic())
        if kept is not None:
            kernel_dispose(*kept[:2])

    def _fork_manager(self, kernel_name: str, key: tuple) -> ForkedKernelManager | None:
        with self._lock:
            run = self._live.get(key)
            if run is not None and not run.alive():
                self._live.pop(key)
                run.close_later()
                run = None
            if run is None:
                if len(self._live) >= self.max_live and not self._evict_idle():
                    return None
                run = self._live[key] = RunSandbox(self.config, view_at=self.view_at, slots=self.slots)
            run.use(+1)
        item = ItemSandbox(run)
        name = uuid.uuid4().hex[:12]
        km = ForkedKernelManager(kernel_name=kernel_name, transport="ipc", ip=str(item.connection_dir / name))
        km.sandbox = item
        km.connection_file = str(item.connection_dir / f"{name}.json")
        return km

    def live(self) -> int:
        with self._lock:
            return len(self._live)

    def _evict_idle(self) -> bool:
        """Close the least recently used run sandbox that runs no kernel; whether one was."""
        idle = [(r.last_used, k) for k, r in self._live.items() if r.users <= 0]
        if not idle:
            return False
        self._live.pop(min(idle)[1]).close_later()
        return True

    def _sweep_forever(self) -> None:
        while not self._closed:
            time.sleep(min(5, self.idle_s, self.shelf_s))
            now = time.monotonic()
            with self._lock:
                stale = [self._shelf.pop(k) for k, (_, _, since) in list(self._shelf.items()) if now - since > self.shelf_s]
            for km, kc, _ in stale:  # their run sandboxes count them until they are disposed of
                kernel_dispose(km, kc)
            with self._lock:
                for key in [k for k, r in self._live.items() if r.users <= 0 and now - r.last_used > self.idle_s]:
                    self._live.pop(key).close_later()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            runs, self._live = list(self._live.values()), {}
            kept, self._shelf = list(self._shelf.values()), {}
        for km, kc, _ in kept:
            kernel_dispose(km, kc)
        for run in runs:
            run.close()
