"""What a Loom worker process adds to Celery: a pool of pre-started kernels, the reaper, and
the Airflow mirror.

Every kernel runs in its own sandbox (runtime/sandbox.py) unless LOOM_SANDBOX=off: the
worker probes once at start that one can be built; if not, every notebook fails naming why.

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

from runtime.execute import kernel_manager
from runtime.kernels import KernelPool, RefusedKernelManager
from runtime.sandbox import UNSANDBOXED_WARNING, Sandbox, sandbox_info, sandbox_problem
from runtime.trees import sandboxes_sweep
from runtime.run_sandboxes import RunSandboxes

log = logging.getLogger(__name__)
_pool: KernelPool | None = None
_runs: RunSandboxes | None = None  # warm interpreters forking the kernels of fanned-out items, per run
_lock = threading.Lock()


def kernel_take(kernel_name: str, group: tuple | None = None, *, reuse: str | None = None):
    """A kernel for one notebook: with `group` (tenant, run), one forked by that run's warm
    interpreter (runtime/zygote.py), or with `reuse` (a node with `reuse_kernel`) the one an
    earlier item of that node left on this thread's shelf; else a pre-started one of that name from this process's
    pool, else a new sandboxed manager (started by notebook_execute), else, with
    LOOM_SANDBOX=off, None (notebook_execute starts an unsandboxed kernel). Where the sandbox
    cannot be built, a manager whose start fails naming the cause."""
    runs = _runs
    if group is not None and runs is not None:
        try:
            km = runs.kernel_manager(kernel_name, group, reuse=reuse)
        except Exception:  # noqa: BLE001 - a run sandbox that cannot start: the kernel starts the usual way
            log.exception("could not start a run sandbox for %s", group)
            km = None
        if km is not None:
            return km
    pool = _pool
    if pool is not None and pool.pid == os.getpid() and settings.LOOM_KERNEL_POOL > 0:
        km = pool.take(kernel_name)
        if km is not None:
            return km
    config = settings.LOOM_SANDBOX
    if not config.enabled:
        return None
    problem = sandbox_problem(config)
    if problem:
        refused = RefusedKernelManager(kernel_name=kernel_name)
        refused.problem = f"Notebooks do not run on this worker: {problem}"
        return refused
    return kernel_manager(kernel_name, sandbox=Sandbox(config, view_at=settings.LOOM_ARTIFACTS_DIR))


def sandbox_warning() -> str | None:
    """What a node run on this worker should show when its notebook runs unsandboxed, else None
    (for the run details; the engine records it)."""
    if settings.LOOM_SANDBOX.enabled:
        return None
    return UNSANDBOXED_WARNING


@signals.worker_ready.connect
def _worker_ready(**kwargs) -> None:
    global _pool, _runs
    config = settings.LOOM_SANDBOX
    problem = sandbox_problem(config) if config.enabled else None
    if not config.enabled:
        log.warning("!!! LOOM_SANDBOX=off: notebooks run UNSANDBOXED as this worker's user and can read "
                    "Loom's data directory, its database, its keys and every tenant's files. !!!")
    elif problem:
        log.error("The notebook sandbox cannot be built, so every notebook will fail: %s", problem)
    else:
        sandboxes_sweep(config.root)  # what a killed worker left
    with _lock:
        if settings.LOOM_KERNEL_POOL > 0 and not problem:
            _pool = KernelPool(size=settings.LOOM_KERNEL_POOL, cwd=tempfile.gettempdir(),
                               sandbox=config if config.enabled else None, python=config.unsandboxed_python,
                               view_at=str(settings.LOOM_ARTIFACTS_DIR)).start()
        if settings.LOOM_RUN_SANDBOXES > 0 and config.enabled and not problem:
            _runs = RunSandboxes(config, view_at=str(settings.LOOM_ARTIFACTS_DIR), slots=settings.LOOM_WORKER_CONCURRENCY,
                                 max_live=settings.LOOM_RUN_SANDBOXES)
    from runs.engines.executing import kernel_source_set

    kernel_source_set(kernel_take, warning=sandbox_warning())
    threading.Thread(target=_reap_forever, name="loom-reaper", daemon=True).start()
    if settings.LOOM_WORKER_METRICS_PORT:
        _metrics_serve(settings.LOOM_WORKER_METRICS_PORT)
    from deployments.client import airflow_config_problem

    if not airflow_config_problem():
        threading.Thread(target=_poll_airflow_forever, name="loom-airflow-poller", daemon=True).start()
    log.info("Loom worker ready: %s pre-started kernels, %s, reaping every %s s%s",
             settings.LOOM_KERNEL_POOL, sandbox_info(config), settings.LOOM_REAP_INTERVAL_S,
             "" if airflow_config_problem() else f", mirroring Airflow every {settings.LOOM_AIRFLOW_POLL_S:g} s")


@signals.worker_shutdown.connect
def _worker_shutdown(**kwargs) -> None:
    if _pool is not None:
        _pool.close()
    if _runs is not None:
        _runs.close()


def _metrics_serve(port: int) -> None:
    """This worker's kernel pool for Prometheus (docs/production.md): it exists only in this
    process, unlike everything ops.metrics reads from the database at the web server."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import GaugeMetricFamily

    class PoolCollector:
        def collect(self):
            pool = _pool
            yield GaugeMetricFamily("loom_kernel_pool_size", "Kernels this worker keeps pre-started (LOOM_KERNEL_POOL).",
                                    value=pool.size if pool else 0)
            yield GaugeMetricFamily("loom_kernel_pool_idle", "Pre-started kernels ready for the next notebook.",
                                    value=pool.idle() if pool else 0)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PoolCollector())
    start_http_server(port, registry=registry)


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
