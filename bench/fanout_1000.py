"""Benchmark of a large fan-out on the local engine (one command: `.venv/bin/python bench/fanout_1000.py`).

A node fanned out over 1,000 items of a trivial notebook (`y = x + 1`), on a real worker
(`manage.py loom_worker`, started here, idle and warm), sandbox on: wall time from the POST that
starts the run to the run's end (seen in the database). Baseline, side by side: the serial
in-process loop of `papermill.execute_notebook` over the same items (`--baseline-sample N` runs
N of them and scales up, for a quicker look). Target: <= 40 s on 2 cores (263 s before items'
kernels were forked from their run's warm interpreter).

`--reuse-kernel`: also runs the same items with the node's `reuse_kernel` on (an item takes the
kernel an earlier item of its node left on its worker thread, namespace reset), side by side.

`--memory 5000`: also starts a run of 5,000 items and samples the RSS of the worker and every
process under it (kernels, sandboxes, warm interpreters) for `--memory-s` seconds while they
are queued or running; prints the peak, then cancels the run.

The broker is the embedded one unless REDIS_URL is set; the database SQLite in a temporary
folder. The machine's load average is printed with the figures: they are noisy on a shared machine.
"""
import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("LOOM_MAP_MAX_ACTIVE", "64")

from local_engine import PY, REPO, STEP, TMP, descendants, inprocess_loop, rss_mb, wait_ready  # noqa: E402 (sets Django up)


def setup(items: list[int], *, reuse: bool = False):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from catalog.services import notebook_upload
    from tenancy.models import Membership, Tenant
    from workflows.services import workflow_create

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench", concurrency_quota=64)
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    notebook_upload(tenant=tenant, name="step.ipynb", data=STEP)
    flows = {}
    for n in items:
        for reused in (False, True) if reuse else (False,):
            flows[n, reused] = workflow_create(tenant=tenant, graph={
                "name": f"fan{n}{'-reuse' if reused else ''}",
                "parameters": [{"name": "xs", "type": "list", "default": list(range(n))}],
                "nodes": [{"id": "each", "notebook": "step.ipynb", "map_over": "xs", "map_parameter": "x", "outputs": ["y"],
                           "reuse_kernel": reused}],
            }).workflow
    client = APIClient()
    client.force_authenticate(user)
    return client, flows


def post(client, workflow) -> int:
    response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": "local"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def run_to_end(client, workflow) -> float:
    from runs.models import Run

    started = time.perf_counter()
    run_id = post(client, workflow)
    while (status := Run.objects.filter(pk=run_id).values_list("status", flat=True).get()) in ("queued", "running"):
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    assert status == "success", Run.objects.get(pk=run_id).error
    return elapsed


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and every process under it, with the children they reaped (exited
    kernels): what a run costs, whatever else loads the machine."""
    total = 0.0
    for p in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    return total


def own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def tree_rss(pid: int) -> float:
    """MB of resident memory of `pid` and every process under it (slirp4netns are children of init: added)."""
    procs = [pid, *descendants(pid)]
    return sum(rss_mb(p) for p in procs + [p for p in descendants(1) if comm(p) == "slirp4netns"])


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # gone meanwhile
        return ""


def memory_while_queued(client, workflow, worker_pid: int, seconds: float) -> tuple[float, float, int]:
    """(idle RSS, peak RSS) of the worker's tree in MB while a big run is queued or running, and items done."""
    from runs.models import NodeRun, Run

    idle = tree_rss(worker_pid)
    run_id = post(client, workflow)
    peak, deadline = idle, time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, tree_rss(worker_pid))
        time.sleep(0.5)
    done = NodeRun.objects.filter(run_id=run_id, map_index__isnull=False, status="success").count()
    client.post(f"/api/tenants/bench/runs/{run_id}/cancel/", format="json")
    while Run.objects.filter(pk=run_id).values_list("status", flat=True).get() in ("queued", "running"):
        time.sleep(0.2)
    return idle, peak, done


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=0, help="papermill loop over this many items, scaled (0: all)")
    parser.add_argument("--memory", type=int, default=0, help="also measure memory while this many items are queued")
    parser.add_argument("--memory-s", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the worker concurrency")
    parser.add_argument("--reuse-kernel", action="store_true",
                        help="also run the same items with the node's reuse_kernel on (items share kernels)")
    args = parser.parse_args()
    if args.memory and args.workers != 1:
        parser.error("--memory measures one worker: use it with --workers 1")
    from django.conf import settings

    client, flows = setup([n for n in (args.items, args.memory) if n], reuse=args.reuse_kernel)
    print(f"Loom fan-out benchmark — {os.cpu_count()} cores, broker {'Redis' if settings.REDIS_URL else 'embedded (files)'}, "
          f"worker concurrency {settings.LOOM_WORKER_CONCURRENCY}, max active items {settings.LOOM_MAP_MAX_ACTIVE}, "
          f"sandbox on ({settings.LOOM_SANDBOX.network}), run sandboxes {settings.LOOM_RUN_SANDBOXES}", flush=True)
    # Several worker processes share the threads (LOOM_WORKER_CONCURRENCY in all): each runs its
    # Django and nbclient side under its own GIL, as `--scale` does in production.
    threads = max(1, settings.LOOM_WORKER_CONCURRENCY // args.workers)
    workers = []
    for n in range(args.workers):
        ready = TMP / f"ready-{n}"
        workers.append((ready, subprocess.Popen(
            [PY, "manage.py", "loom_worker", "-l", "WARNING"], cwd=REPO,
            env={**os.environ, "LOOM_WORKER_READY_FILE": str(ready), "LOOM_WORKER_CONCURRENCY": str(threads)},
            stdout=open(TMP / f"worker-{n}.log", "wb"), stderr=subprocess.STDOUT)))
    pids = [w.pid for _, w in workers]
    print(f"{args.workers} worker process(es) of {threads} thread(s)", flush=True)
    try:
        for ready, _ in workers:
            wait_ready(ready, timeout=600)  # a loaded machine fills the kernel pools slowly
        figures = {}
        for reused in (False, True) if args.reuse_kernel else (False,):
            if figures:  # the previous run's sandboxes close first (idle 30 s): their CPU leaves the sum
                time.sleep(40)
            before, cpu, own = load(), sum(map(tree_cpu, pids)), sum(map(own_cpu, pids))
            engine = run_to_end(client, flows[args.items, reused])
            cpu = sum(map(tree_cpu, pids)) - cpu  # before the run's sandbox is closed (idle 30 s): its kernels are counted
            own = sum(map(own_cpu, pids)) - own
            figures[reused] = engine, cpu
            print(f"engine{', reuse_kernel' if reused else ''}: {args.items} items, POST to end: {engine:.1f} s "
                  f"({engine / args.items * 1000:.0f} ms per item; {before} at the start, {load()} at the end); "
                  f"CPU of the workers and their kernels {cpu:.1f} s ({cpu / args.items * 1000:.0f} ms per item, of which "
                  f"the worker processes {own / args.items * 1000:.0f} ms)", flush=True)
        if args.memory:
            idle, peak, done = memory_while_queued(client, flows[args.memory, False], pids[0], args.memory_s)
            print(f"memory: worker + kernels + sandboxes {idle:.0f} MB idle, peak {peak:.0f} MB over {args.memory_s:.0f} s "
                  f"with {args.memory} items queued ({done} done meanwhile; {load()})", flush=True)
    finally:
        for _, worker in workers:
            worker.terminate()
        for _, worker in workers:
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:  # still finishing the notebooks it runs
                worker.kill()
                worker.wait()

    sample = args.baseline_sample or args.items
    source = TMP / "step.ipynb"
    source.write_bytes(STEP)
    before = load()
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    loop = inprocess_loop(sample, source) * args.items / sample
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    loop_cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, usage)) / sample
    print(f"baseline: serial in-process papermill.execute_notebook loop, {args.items} items: {loop:.1f} s"
          f"{f' (scaled from {sample})' if sample != args.items else ''} ({before} at the start, {load()} at the end); "
          f"CPU {loop_cpu * 1000:.0f} ms per item")
    print()
    for reused, (engine, cpu) in figures.items():
        what = "items sharing kernels (reuse_kernel)" if reused else "a fresh kernel per item"
        print(f"fan-out of {args.items}, {what}: {engine:.1f} s against {loop:.1f} s for the papermill loop: "
              f"{loop / engine:.1f}x faster; target <= 40 s for 1,000 items on 2 cores")
        print(f"  CPU per item: {cpu / args.items * 1000:.0f} ms against {loop_cpu * 1000:.0f} ms "
              f"(on 2 idle cores, a bound of {cpu / 2:.1f} s for the fan-out)")


if __name__ == "__main__":
    main()
