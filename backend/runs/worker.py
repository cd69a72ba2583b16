"""What a Loom worker process adds to Celery: a pool of pre-started kernels, the reaper, and
the Airflow mirror.

`manage.py loom_worker` runs Celery with the threads pool, so one process holds one kernel
pool shared by all its task threads. The reaper thread (runs.engines.recovery.runs_reap) makes
any live worker recover the node runs of a dead one. When Airflow is configured, a poller
thread mirrors Airflow's runs every LOOM_AIRFLOW_POLL_S (runs.engines.airflow.mirror.airflow_poll;
of several workers, the holder of a lease polls).
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
    from runs.engines.local import kernel_source_set

    kernel_source_set(kernel_take)
    threading.Thread(target=_reap_forever, name="loom-reaper", daemon=True).start()
    from deployments.client import airflow_config_problem

    if not airflow_config_problem():
        threading.Thread(target=_poll_airflow_forever, name="loom-airflow-poller", daemon=True).start()
    log.info("Loom worker ready: %s pre-started kernels, reaping every %s s%s",
             settings.LOOM_KERNEL_POOL, settings.LOOM_REAP_INTERVAL_S,
             "" if airflow_config_problem() else f", mirroring Airflow every {settings.LOOM_AIRFLOW_POLL_S:g} s")


@signals.worker_shutdown.connect
def _worker_shutdown(**kwargs) -> None:
    if _pool is not None:
        _pool.close()


def _reap_forever() -> None:
    from runs.engines.recovery import runs_reap

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


def _poll_airflow_forever() -> None:
    from runs.engines.airflow.mirror import airflow_poll
    from runs.engines.local import WORKER_ID

    stop = threading.Event()
    while not stop.wait(settings.LOOM_AIRFLOW_POLL_S):
        try:
            airflow_poll(holder=WORKER_ID)
        except Exception:  # noqa: BLE001 - keep polling; Airflow or the database may be back next round
            log.exception("mirroring Airflow failed")
