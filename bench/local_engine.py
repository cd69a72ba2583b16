"""Benchmark of the local engine (one command: `make bench` or `.venv/bin/python bench/local_engine.py`).

Two workflows of a trivial notebook (`y = x + 1`):
- a chain of 10 nodes, each feeding the next;
- a fan-out of 20 items (one node with map_over).
For each: wall time from the POST that starts the run to the run's end (seen in the database),
on a real worker (`manage.py loom_worker`, started here, idle and warm as a running install
is), against the same notebooks run one after another with the `papermill` CLI and with
in-process `papermill.execute_notebook` calls. The broker is the embedded one unless
REDIS_URL is set. Everything lives in a temporary folder.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="loom-bench-"))
os.environ.update({"LOOM_DATA_DIR": str(TMP / "var"), "LOOM_QUEUE": f"bench-{os.getpid()}",
                   "DJANGO_SETTINGS_MODULE": "loom.settings"})
os.environ.pop("DATABASE_URL", None)
sys.path[:0] = [str(REPO / "backend"), str(REPO / "tests")]

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from helpers import notebook_bytes  # noqa: E402

PY = sys.executable
STEP = notebook_bytes("x = 0", "y = x + 1")


def setup():
    from django.contrib.auth import get_user_model

    from catalog.services import notebook_upload
    from tenancy.models import Membership, Tenant
    from workflows.services import workflow_create

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench", concurrency_quota=32)
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    notebook_upload(tenant=tenant, name="step.ipynb", data=STEP)
    one = workflow_create(tenant=tenant, graph={"name": "one", "nodes": [
        {"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}]}).workflow
    chain = workflow_create(tenant=tenant, graph={
        "name": "chain10",
        "nodes": [{"id": f"s{i}", "notebook": "step.ipynb", "outputs": ["y"]} for i in range(10)],
        "edges": [{"source": f"s{i}", "target": f"s{i + 1}", "bind": {"y": "x"}} for i in range(9)],
    }).workflow
    fan = workflow_create(tenant=tenant, graph={
        "name": "fan20", "parameters": [{"name": "xs", "type": "list", "default": list(range(20))}],
        "nodes": [{"id": "each", "notebook": "step.ipynb", "map_over": "xs", "map_parameter": "x",
                   "max_active": 20, "outputs": ["y"]}],
    }).workflow
    client = APIClient()
    client.force_authenticate(user)
    return client, one, chain, fan


def run_once(client, workflow) -> tuple[float, dict]:
    from runs.models import Run

    started = time.perf_counter()
    response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": "local"}, format="json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    while True:
        status = Run.objects.filter(pk=run_id).values_list("status", flat=True).get()
        if status not in ("queued", "running"):
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    assert status == "success", client.get(f"/api/tenants/bench/runs/{run_id}/").json()
    return elapsed, client.get(f"/api/tenants/bench/runs/{run_id}/").json()


def wait_ready(ready_file: Path, timeout=60):
    """The worker writes this file once it consumes and its kernel pool is full (see runs.worker)."""
    deadline = time.monotonic() + timeout
    while not ready_file.exists():
        assert time.monotonic() < deadline, "the worker did not get ready"
        time.sleep(0.05)


def cli_loop(n: int, source: Path) -> float:
    started = time.perf_counter()
    for i in range(n):
        subprocess.run([str(Path(PY).parent / "papermill"), str(source), str(TMP / f"cli-{i}.ipynb"), "-p", "x", str(i),
                        "--no-progress-bar"], check=True, capture_output=True)
    return time.perf_counter() - started


def inprocess_loop(n: int, source: Path) -> float:
    import logging

    import papermill

    logging.getLogger("papermill").setLevel(logging.WARNING)  # one INFO line per notebook otherwise
    # The kernels papermill starts inherit stderr and warn there (IPKernelApp); keep the table readable.
    saved = os.dup(2)
    with open(TMP / "inprocess-kernels.log", "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            started = time.perf_counter()
            for i in range(n):
                papermill.execute_notebook(str(source), str(TMP / f"inproc-{i}.ipynb"), parameters={"x": i},
                                           progress_bar=False)
            return time.perf_counter() - started
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="engine runs of each workflow (best and median shown)")
    args = parser.parse_args()
    from django.conf import settings

    client, one, chain, fan = setup()
    broker = "Redis" if settings.REDIS_URL else "embedded (files)"
    print(f"Loom local engine benchmark — {os.cpu_count()} cores, broker {broker}, "
          f"worker concurrency {settings.LOOM_WORKER_CONCURRENCY}, kernel pool {settings.LOOM_KERNEL_POOL}")

    ready = TMP / "ready"
    env = {**os.environ, "LOOM_WORKER_READY_FILE": str(ready)}
    worker = subprocess.Popen([PY, "manage.py", "loom_worker", "-l", "WARNING"], cwd=REPO, env=env,
                              stdout=open(TMP / "worker.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_ready(ready)
        first, _ = run_once(client, one)
        print(f"first run after the worker started (1 notebook): {first:.2f} s")
        results = {}
        for name, workflow in (("chain of 10", chain), ("fan-out of 20", fan)):
            times = []
            for _ in range(args.repeat):
                time.sleep(5)  # an idle worker: its kernel pool has refilled
                elapsed, _ = run_once(client, workflow)
                times.append(elapsed)
            results[name] = sorted(times)
    finally:
        worker.terminate()
        worker.wait(30)

    source = TMP / "step.ipynb"
    source.write_bytes(STEP)
    print("baselines: the same notebooks one after another ...", flush=True)
    cli10, inproc10 = cli_loop(10, source), inprocess_loop(10, source)
    cli20, inproc20 = cli_loop(20, source), inprocess_loop(20, source)

    chain_t, fan_t = results["chain of 10"], results["fan-out of 20"]
    c_med, f_med = chain_t[len(chain_t) // 2], fan_t[len(fan_t) // 2]
    print()
    print(f"{'':28}{'engine (median)':>16}{'engine (best)':>15}{'papermill CLI':>15}{'in-process pm':>15}")
    print(f"{'chain of 10, POST to end':28}{c_med:>15.2f}s{chain_t[0]:>14.2f}s{cli10:>14.2f}s{inproc10:>14.2f}s")
    print(f"{'fan-out of 20, POST to end':28}{f_med:>15.2f}s{fan_t[0]:>14.2f}s{cli20:>14.2f}s{inproc20:>14.2f}s")
    print()
    print(f"chain:   {c_med:.2f} s (target <= 3 s)  = {c_med / cli10:.3f} x the CLI loop (target <= 0.1), "
          f"{c_med / inproc10:.3f} x the in-process loop")
    print(f"fan-out: {inproc20 / f_med:.2f} x faster than the serial in-process loop, {cli20 / f_med:.2f} x faster than "
          f"the serial CLI loop (target >= 1.8)")
    print(f"(all engine runs: chain {', '.join(f'{t:.2f}' for t in chain_t)}; fan-out {', '.join(f'{t:.2f}' for t in fan_t)})")


if __name__ == "__main__":
    main()
