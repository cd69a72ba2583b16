"""A broker outage, injected for real: a private redis-server (never the shared one) is stopped
while a run goes on and a run is posted, then started again. In a module of its own, after the
other engine tests: it stops the shared test worker, whose reaper would otherwise send this
test's messages to its own broker (the `engine` fixture starts it again when needed).
"""
import socket
import subprocess
import time

import pytest

from tests.runs.support import broker_connections_forget, nodes_of, wait_run, worker_start
from tests.runs.test_faults import post_run, wait_for


class RedisServer:
    """A private redis-server on a free port (never the shared one), stopped and started again by PID."""

    def __init__(self, root):
        self.root, self.process = root, None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.root / "redis.log", "ab")
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.root)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, (self.root / "redis.log").read_text()
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_broker_outage_loses_no_run_and_heals_in_seconds(worker, transactional_db, api, tenant, nb, workflow, tmp_path,
                                                           private_redis):
    from loom.celery import app
    from runs.models import ACTIVE, NodeRun, Run
    from runs.services import run_cancel

    # The shared test worker's reaper would send this test's messages to its own broker: stop it
    # (the `engine` fixture starts it again for the next test).
    worker.stop()
    gate = tmp_path / "gate"
    nb("a.ipynb", "gate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)")
    nb("quick.ipynb", "x = 1", "y = x")
    fan = workflow(nodes=[{"id": "a", "notebook": "a.ipynb", "parameters": {"gate": str(gate)}},
                          {"id": "b", "notebook": "quick.ipynb"}, {"id": "c", "notebook": "quick.ipynb"}],
                   edges=[{"source": "a", "target": "b"}, {"source": "a", "target": "c"}])
    solo = workflow(nodes=[{"id": "solo", "notebook": "quick.ipynb"}])
    saved = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    broker_connections_forget(app)
    try:
        # Unsandboxed like the shared engine worker: the notebook waits on a file of the test's folder.
        with worker_start(tmp_path / "worker", REDIS_URL=private_redis.url, LOOM_KERNEL_POOL="2",
                          LOOM_SANDBOX="off"):
            first = post_run(api, tenant, fan)
            wait_run(api, tenant.slug, first["id"], until=lambda d: nodes_of(d)["a"]["status"] == "running")

            private_redis.stop()
            posted = time.monotonic()
            second = post_run(api, tenant, solo)  # 201: the run exists and starts when the broker is back
            assert time.monotonic() - posted < 10
            assert NodeRun.objects.get(run_id=second["id"]).dispatched_at is None  # marked unsent for the reaper
            gate.write_text("open")  # `a` finishes during the outage: `c`'s message is refused (its thread runs `b`)
            wait_for(lambda: NodeRun.objects.filter(run_id=first["id"], node="c", dispatched_at=None).exclude(token="")
                  .exists(), what="c's refused message to be marked unsent")
            assert NodeRun.objects.get(run_id=first["id"], node="a").status == "success"

            private_redis.start()
            back = time.monotonic()
            for run in (first, second):
                detail = wait_run(api, tenant.slug, run["id"], timeout=60)
                assert detail["status"] == "success", detail
            healed, outage = time.monotonic() - back, back - posted
            # Not LOOM_REDISPATCH_AFTER_S (120 s): Celery's reconnect pause (2 s, then 4, 6...) and a kernel.
            assert healed < 20, f"{healed:.1f} s after the broker came back, after an outage of {outage:.1f} s"
            assert Run.objects.filter(workflow_id=solo).count() == 1
    finally:
        app.conf.broker_url = saved
        broker_connections_forget(app)
        for run in Run.objects.filter(status__in=ACTIVE):
            run_cancel(run=run)
