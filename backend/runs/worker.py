"""What a Loom worker process adds to Celery: a pool of pre-started kernels and the reaper.

`manage.py loom_worker` runs Celery with the threads pool, so one process holds one kernel
pool shared by all its task threads. The reaper thread (runs.engines.local.runs_reap) makes
any live worker recover the node runs of a dead one.
"""
import logging
import os
import tempfile
import threading
from pathlib import Path

from celery import signals
from django.conf import settings

from runtime.kernels import KernelPool

log = logging.getLogger(__name__)
_pool: KernelPool | None = None
_lock = threading.Lock()


def kernel_take(kernel_name: str):
    """A pre-started kernel of that name from this process's pool, or None (start a fresh one)."""
    pool = _pool
    if pool is None or pool.pid != os.getpid() or settings.LOOM_KERNEL_POOL <= 0:
        return None
    return pool.take(kernel_name)


@signals.worker_ready.connect
def _worker_ready(**kwargs) -> None:
    global _pool
    with _lock:
        if settings.LOOM_KERNEL_POOL > 0:
            _pool = KernelPool(size=settings.LOOM_KERNEL_POOL, cwd=tempfile.gettempdir()).start()
    threading.Thread(target=_reap_forever, name="loom-reaper", daemon=True).start()
    log.info("Loom worker ready: %s pre-started kernels, reaping every %s s",
             settings.LOOM_KERNEL_POOL, settings.LOOM_REAP_INTERVAL_S)


@signals.worker_shutdown.connect
def _worker_shutdown(**kwargs) -> None:
    if _pool is not None:
        _pool.close()


def _reap_forever() -> None:
    from runs.engines.local import runs_reap

    ready_file = os.environ.get("LOOM_WORKER_READY_FILE")
    stop = threading.Event()
    while not stop.wait(settings.LOOM_REAP_INTERVAL_S if not ready_file else 0.2):
        if ready_file and (_pool is None or _pool.idle() >= _pool.size):
            # Tests and the benchmark wait for this file: the worker consumes and its kernels are up.
            Path(ready_file).write_text(str(os.getpid()))
            ready_file = None
        try:
            runs_reap()
        except Exception:  # noqa: BLE001 - keep reaping; a database outage is temporary
            log.exception("reaping failed")
