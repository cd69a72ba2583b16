"""A real worker for the engine tests: `manage.py loom_worker` in a subprocess, on the test
database, with the broker the environment selects (embedded files, or Redis when REDIS_URL
is set), on a queue of its own so that nothing else consumes its messages."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from helpers import notebook_bytes, upload
from tests.runs.support import wait_run

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


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    from loom.celery import app

    base = tmp_path_factory.mktemp("engine")
    queue = f"loom-test-{os.getpid()}"
    env = {
        **os.environ, "DATABASE_URL": _database_url(), "LOOM_QUEUE": queue,
        "LOOM_BROKER_DIR": str(base / "broker"), "LOOM_ARTIFACTS_DIR": str(base / "artifacts"),
        "LOOM_HEARTBEAT_S": "0.5", "LOOM_HEARTBEAT_TIMEOUT_S": "3", "LOOM_REAP_INTERVAL_S": "0.5",
        "LOOM_KERNEL_POOL": "4", "LOOM_DATA_DIR": str(settings.DATA_DIR),
    }
    # This process sends the first messages of a run: same broker, same queue, same artifacts root.
    app.conf.task_default_queue = queue
    if not settings.REDIS_URL:
        app.conf.broker_transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                                             "data_folder": env["LOOM_BROKER_DIR"],
                                             "control_folder": f"{env['LOOM_BROKER_DIR']}/control"}
    settings.LOOM_ARTIFACTS_DIR = Path(env["LOOM_ARTIFACTS_DIR"])
    w = Worker(env, base).start()
    yield w
    w.stop()


@pytest.fixture
def engine(worker, transactional_db, tenant, editor):
    """A live worker; at the end, whatever still runs is cancelled before the tables are emptied."""
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


@pytest.fixture
def nb(api, tenant):
    """Upload a notebook: nb("name.ipynb", "x = 1", "y = x + 1")."""
    def make(name: str, parameters: str | None, *cells: str) -> str:
        response = upload(api, tenant.slug, name, notebook_bytes(parameters, *cells))
        assert response.status_code in (200, 201), response.content
        return name

    return make


@pytest.fixture
def workflow(api, tenant):
    """Save a workflow graph and return its id."""
    def make(nodes: list[dict], edges: list[dict] = (), parameters: list[dict] = ()) -> int:
        graph = {"name": f"wf-{time.monotonic_ns()}", "nodes": nodes, "edges": list(edges), "parameters": list(parameters)}
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["errors"] == [], response.json()["errors"]
        return response.json()["id"]

    return make


@pytest.fixture
def run_wf(api, tenant):
    """Start a run and wait for it to finish: run_wf(workflow_id, parameters={}) -> run detail."""
    def start(workflow_id: int, parameters: dict | None = None, wait: bool = True, timeout: float = 60) -> dict:
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/{workflow_id}/runs/",
                            {"engine": "local", "parameters": parameters or {}}, format="json")
        assert response.status_code == 201, response.content
        return wait_run(api, tenant.slug, response.json()["id"], timeout=timeout) if wait else response.json()

    return start
