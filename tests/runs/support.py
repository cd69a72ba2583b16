"""A real worker for the engine tests, and polling helpers."""
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

FINISHED = ("success", "failed", "skipped", "upstream_failed", "cancelled")


def wait_run(api, tenant_slug: str, run_id: int, *, timeout: float = 60, until=None) -> dict:
    """Poll the API until the run is finished (or `until(detail)` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        detail = api.get(f"/api/tenants/{tenant_slug}/runs/{run_id}/").json()
        if until:
            detail = with_items(api, tenant_slug, detail)
        if (until(detail) if until else detail["status"] in FINISHED):
            return detail if until else with_items(api, tenant_slug, detail)
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)


def with_items(api, tenant_slug: str, detail: dict) -> dict:
    """The run detail with each fanned-out node's items (from the items endpoint, every page)
    after its own row, as `nodes_of` reads them."""
    rows = []
    for row in detail["nodes"]:
        rows.append(row)
        url = f"/api/tenants/{tenant_slug}/runs/{detail['id']}/nodes/{row['node']}/items/?limit=1000"
        while row["items"] is not None and url:
            page = api.get(url)
            assert page.status_code == 200, page.content
            rows += [{**item, "node": row["node"]} for item in page.json()["results"]]
            url = page.json()["next"]
    return {**detail, "nodes": rows}


def nodes_of(detail: dict) -> dict:
    """{node or (node, map_index): node run} of a run detail."""
    return {(n["node"] if n["map_index"] is None else (n["node"], n["map_index"])): n for n in detail["nodes"]}


def purge_messages() -> int:
    """Drop the messages waiting in this test's broker queue, as a broker that lost them would."""
    from loom.celery import app

    # This queue by name, on a new connection: app.control.purge() purges the queues Celery
    # cached when it first looked, which are another module's after a worker of that module.
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_purge(app.conf.task_default_queue) or 0


REPO = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    """One worker subprocess; `kill()` it like the OOM killer would, `start()` another."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.process, self.starts = env, logs, None, 0

    def start(self) -> "Worker":
        self.starts += 1
        ready = self.logs / f"ready-{self.starts}"
        env = {**self.env, "LOOM_WORKER_READY_FILE": str(ready)}
        log = open(self.logs / f"worker-{self.starts}.log", "wb")
        self.process = subprocess.Popen([sys.executable, "manage.py", "loom_worker", "-c", "4", "-l", "WARNING"],
                                        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.process.poll() is None, (self.logs / f"worker-{self.starts}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not get ready in 60 s"
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def worker_start(base: Path, **extra_env: str):
    """A worker on the test database, on a queue and broker folder of its own under `base`, to
    which this process sends its messages while the block lasts; stopped at the end."""
    from loom.celery import app

    queue = f"loom-test-{os.getpid()}-{base.name}"
    env = {
        **os.environ, "DATABASE_URL": _database_url(), "LOOM_QUEUE": queue,
        "LOOM_BROKER_DIR": str(base / "broker"), "LOOM_ARTIFACTS_DIR": str(base / "artifacts"),
        "LOOM_HEARTBEAT_S": "0.5", "LOOM_HEARTBEAT_TIMEOUT_S": "3", "LOOM_REAP_INTERVAL_S": "0.5",
        "LOOM_KERNEL_POOL": "4", "LOOM_DATA_DIR": str(settings.DATA_DIR), **extra_env,
    }
    # This process sends the first messages of a run: same broker, same queue, same artifacts root.
    saved = (app.conf.task_default_queue, app.conf.broker_transport_options, settings.LOOM_ARTIFACTS_DIR)
    app.conf.task_default_queue = queue
    if not settings.REDIS_URL:
        app.conf.broker_transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                                             "data_folder": env["LOOM_BROKER_DIR"],
                                             "control_folder": f"{env['LOOM_BROKER_DIR']}/control"}
    settings.LOOM_ARTIFACTS_DIR = Path(env["LOOM_ARTIFACTS_DIR"])
    broker_connections_forget(app)
    base.mkdir(parents=True, exist_ok=True)
    w = Worker(env, base)
    try:
        yield w.start()
    finally:
        w.stop()
        app.conf.task_default_queue, app.conf.broker_transport_options, settings.LOOM_ARTIFACTS_DIR = saved
        broker_connections_forget(app)


def broker_connections_forget(app) -> None:
    """Drop Celery's pooled broker connections: they keep the transport options (the broker
    folder) they were opened with, so the next worker's folder would otherwise be ignored."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def worker_fixtures(folder: str, *, scope: str = "module", **env: str):
    """The `worker` and `engine` fixtures of a test module (or, scope="session", of conftest.py):
    a worker started with `env` in its environment, and for each test that worker alive (started
    again if a test killed it); at the end whatever still runs is cancelled before the tables are
    emptied. Use: `worker, engine = worker_fixtures("limits", LOOM_NODE_TIMEOUT_S="2")`."""

    @pytest.fixture(scope=scope)
    def worker(django_db_setup, django_db_blocker, tmp_path_factory):
        with worker_start(tmp_path_factory.mktemp(folder), **env) as w:
            yield w

    @pytest.fixture
    def engine(worker, transactional_db, tenant, editor):
        if worker.process.poll() is not None:
            worker.start()
        yield worker
        from runs.models import ACTIVE, Run
        from runs.services import run_cancel

        active = list(Run.objects.filter(status__in=ACTIVE))
        for run in active:
            run_cancel(run=run)
        if active:
            time.sleep(1.5)  # the worker notices within 0.5 s and kills the kernels

    return worker, engine
