"""Benchmark of the local engine (one command: `make bench` or `.venv/bin/python bench/local_engine.py`).

Two workflows of a trivial notebook (`y = x + 1`):
- a chain of 10 nodes, each feeding the next;
- a fan-out of 20 items (one node with map_over).
For each: wall time from the POST that starts the run to the run's end (seen in the database),
on a real worker (`manage.py loom_worker`, started here, idle and warm as a running install
is), against the same notebooks run one after another with the `papermill` CLI and with
in-process `papermill.execute_notebook` calls; each engine figure with the sandbox on (the
default) and off, side by side, with the memory (RSS) a pre-started kernel costs in each. The
broker is the embedded one unless REDIS_URL is set. Everything lives in a temporary folder.
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
TMP.chmod(0o711)  # run by root, sandboxes run as nobody, who must reach their folders here
os.environ.update({"LOOM_DATA_DIR": str(TMP / "var"), "LOOM_QUEUE": f"bench-{os.getpid()}",
                   "DJANGO_SETTINGS_MODULE": "loom.settings"})
# SQLite in TMP, unless LOOM_BENCH_DATABASE_URL names a database (an empty one: the bench migrates it).
os.environ.pop("DATABASE_URL", None)
if os.environ.get("LOOM_BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["LOOM_BENCH_DATABASE_URL"]
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


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def kernel_memory(worker_pid: int, kernels: int) -> tuple[float, float]:
    """(RSS of one kernel's python, RSS of everything one pre-started kernel costs) in MB, averaged:
    with the sandbox also bwrap's two processes and slirp4netns."""
    procs = descendants(worker_pid)
    pythons = [p for p in procs if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()
               and Path(f"/proc/{p}/comm").read_text().startswith("python")]
    slirps = [p for p in descendants(1) if Path(f"/proc/{p}/comm").read_text().strip() == "slirp4netns"]
    total = sum(rss_mb(p) for p in procs) + sum(rss_mb(p) for p in slirps)
    return sum(rss_mb(p) for p in pythons) / max(1, len(pythons)), total / max(1, kernels)


def engine_times(client, one, chain, fan, *, sandbox: str, repeat: int) -> dict:
    """Start a worker with LOOM_SANDBOX=`sandbox`; time the runs; measure its idle kernels."""
    from django.conf import settings

    ready = TMP / f"ready-{sandbox}"
    env = {**os.environ, "LOOM_WORKER_READY_FILE": str(ready), "LOOM_SANDBOX": sandbox}
    worker = subprocess.Popen([PY, "manage.py", "loom_worker", "-l", "WARNING"], cwd=REPO, env=env,
                              stdout=open(TMP / f"worker-{sandbox}.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_ready(ready)
        results = {"memory": kernel_memory(worker.pid, settings.LOOM_KERNEL_POOL)}
        results["first"], _ = run_once(client, one)
        for name, workflow in (("chain of 10", chain), ("fan-out of 20", fan)):
            times = []
            for _ in range(repeat):
                time.sleep(5)  # an idle worker: its kernel pool has refilled
                elapsed, _ = run_once(client, workflow)
                times.append(elapsed)
            results[name] = sorted(times)
        return results
    finally:
        worker.terminate()
        worker.wait(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="engine runs of each workflow (best and median shown)")
    args = parser.parse_args()
    from django.conf import settings

    client, one, chain, fan = setup()
    broker = "Redis" if settings.REDIS_URL else "embedded (files)"
    print(f"Loom local engine benchmark — {os.cpu_count()} cores, broker {broker}, "
          f"worker concurrency {settings.LOOM_WORKER_CONCURRENCY}, kernel pool {settings.LOOM_KERNEL_POOL}, "
          f"sandbox network {settings.LOOM_SANDBOX.network}", flush=True)
    by_mode = {mode: engine_times(client, one, chain, fan, sandbox=mode, repeat=args.repeat) for mode in ("on", "off")}

    source = TMP / "step.ipynb"
    source.write_bytes(STEP)
    print("baselines: the same notebooks one after another ...", flush=True)
    cli10, inproc10 = cli_loop(10, source), inprocess_loop(10, source)
    cli20, inproc20 = cli_loop(20, source), inprocess_loop(20, source)

    med = {m: {k: r[k][len(r[k]) // 2] for k in ("chain of 10", "fan-out of 20")} for m, r in by_mode.items()}
    print()
    print(f"{'':28}{'sandbox on':>12}{'(best)':>8}{'sandbox off':>13}{'(best)':>8}{'papermill CLI':>15}{'in-process pm':>15}")
    for name, cli, inproc in (("chain of 10", cli10, inproc10), ("fan-out of 20", cli20, inproc20)):
        on, off = by_mode["on"][name], by_mode["off"][name]
        print(f"{name + ', POST to end':28}{med['on'][name]:>11.2f}s{on[0]:>7.2f}s{med['off'][name]:>12.2f}s"
              f"{off[0]:>7.2f}s{cli:>14.2f}s{inproc:>14.2f}s")
    for mode in ("on", "off"):
        python_mb, all_mb = by_mode[mode]["memory"]
        print(f"sandbox {mode:3}: first run {by_mode[mode]['first']:.2f} s; a pre-started kernel: python {python_mb:.0f} MB RSS,"
              f" {all_mb:.0f} MB with its helper processes")
    print()
    print(f"targets with the sandbox on: chain of 10 <= 1.0 s (median {med['on']['chain of 10']:.2f} s), "
          f"fan-out of 20 <= 4.3 s (median {med['on']['fan-out of 20']:.2f} s)")
    for mode in ("on", "off"):
        r = by_mode[mode]
        print(f"(sandbox {mode}, all runs: chain {', '.join(f'{t:.2f}' for t in r['chain of 10'])}; "
              f"fan-out {', '.join(f'{t:.2f}' for t in r['fan-out of 20'])})")


if __name__ == "__main__":
    main()
