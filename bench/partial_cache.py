"""Benchmark of the cache (one command: `.venv/bin/python bench/partial_cache.py`).

The chain of 10 of bench/local_engine.py (`y = x + 1`, each node feeding the next) on a real
worker: a full run, then, --repeat times, a new version of the last node's notebook saved and
the workflow run with the cache on, as the editor does. Only the last node executes (checked
on every run: nine node runs say cached_from); the figure is the wall time from the POST that
starts the run to its end, side by side with a full run of the chain (the baseline). Target:
<= 0.3 s. Everything lives in a temporary folder (bench/local_engine.py's).
"""
import argparse
import os
import subprocess
import time

from local_engine import PY, REPO, STEP, TMP, wait_ready  # noqa: I001 - sets Django up

from rest_framework.test import APIClient  # noqa: E402

from helpers import notebook_bytes  # noqa: E402


def setup():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from catalog.services import notebook_upload
    from tenancy.models import Membership, Tenant
    from workflows.services import workflow_create

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench", concurrency_quota=32)
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    notebook_upload(tenant=tenant, name="step.ipynb", data=STEP)
    notebook_upload(tenant=tenant, name="last.ipynb", data=notebook_bytes("x = 0", "y = x + 1"))
    graph = {"name": "chain10",
             "nodes": [{"id": f"s{i}", "notebook": "step.ipynb" if i < 9 else "last.ipynb", "outputs": ["y"]} for i in range(10)],
             "edges": [{"source": f"s{i}", "target": f"s{i + 1}", "bind": {"y": "x"}} for i in range(9)]}
    chain = workflow_create(tenant=tenant, graph=graph).workflow
    client = APIClient()
    client.force_authenticate(user)
    return client, tenant, chain, graph


def timed_run(client, workflow, **body) -> tuple[float, dict]:
    from runs.models import Run

    started = time.perf_counter()
    response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": "local", **body}, format="json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    while Run.objects.filter(pk=run_id, status__in=("queued", "running")).exists():
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    detail = client.get(f"/api/tenants/bench/runs/{run_id}/").json()
    assert detail["status"] == "success", detail
    return elapsed, detail


def last_changed(tenant, workflow, graph, n: int) -> None:
    """A new version of the last node's notebook, and a workflow version pinning it (as the editor saves)."""
    from catalog.services import notebook_upload
    from workflows.services import workflow_update

    notebook_upload(tenant=tenant, name="last.ipynb", data=notebook_bytes("x = 0", f"y = x + {n}"))
    workflow.refresh_from_db()
    workflow_update(workflow=workflow, graph=graph, base_version=workflow.latest_version)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each kind (median and best shown)")
    parser.add_argument("--sandbox", choices=("on", "off"), default="on")
    args = parser.parse_args()
    client, tenant, chain, graph = setup()
    ready = TMP / "ready"
    env = {**os.environ, "LOOM_WORKER_READY_FILE": str(ready), "LOOM_SANDBOX": args.sandbox}
    worker = subprocess.Popen([PY, "manage.py", "loom_worker", "-l", "WARNING"], cwd=REPO, env=env,
                              stdout=open(TMP / "worker.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_ready(ready, timeout=300)  # a loaded machine fills the kernel pool slowly
        timed_run(client, chain)  # warm-up
        full, cached = [], []
        for _ in range(args.repeat):
            time.sleep(3)  # an idle worker: its kernel pool has refilled
            full.append(timed_run(client, chain)[0])
        for n in range(args.repeat):
            last_changed(tenant, chain, graph, n + 2)
            time.sleep(3)
            elapsed, detail = timed_run(client, chain, cache=True)
            executed = [nr["node"] for nr in detail["nodes"] if not nr["cached_from"]]
            assert executed == ["s9"], f"expected only s9 to execute, got {executed}"
            assert detail["nodes"][-1]["outputs"] == {"y": 9 + n + 2}, detail["nodes"][-1]
            cached.append(elapsed)
    finally:
        worker.terminate()
        worker.wait(30)
    full.sort()
    cached.sort()
    mf, mc = full[len(full) // 2], cached[len(cached) // 2]
    print(f"Loom cache benchmark — chain of 10, {os.cpu_count()} cores, sandbox {args.sandbox}, {args.repeat} runs each")
    print(f"{'':44}{'median':>9}{'best':>9}")
    print(f"{'full run of the chain, POST to end':44}{mf:>8.2f}s{full[0]:>8.2f}s")
    print(f"{'last notebook changed, cache on (1 of 10)':44}{mc:>8.2f}s{cached[0]:>8.2f}s")
    print(f"ratio: the cached run takes {mc / mf:.2f}x a full run ({mf / mc:.1f}x faster); target <= 0.30 s: "
          f"{'met' if mc <= 0.3 else 'NOT met'} (median {mc:.2f} s)")
    print(f"(all runs: full {', '.join(f'{t:.2f}' for t in full)}; cached {', '.join(f'{t:.2f}' for t in cached)})")


if __name__ == "__main__":
    main()
