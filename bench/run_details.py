"""Benchmark: run details of a run whose fanned-out node has 5,000 items (target <= 100 ms).

    .venv/bin/python bench/run_details.py [--items 5000] [--runs 30]

On a scratch SQLite database (or DATABASE_URL), makes a run with one node fanned out over
`--items` finished items (rows written directly), then times GET .../runs/{id}/ through
Django's test client (URL routing, auth, tenant scoping, queries, serialization, JSON) and
prints the median. Baseline, side by side: the old response, which listed every item row
inline (the same serializer over every row), and its size. Also times one page (100 items)
of the items endpoint, sorted by an output.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))
TARGET_MS = 100


def timed(fn, runs: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="loom-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loom.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer
    from rest_framework.test import APIClient

    from django.contrib.auth import get_user_model
    from runs.models import NodeRun, Run, Status
    from runs.serializers import RunDetailSerializer
    from tenancy.models import Membership, Role, Tenant
    from workflows.graph import graph_order
    from workflows.services import workflow_create

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug=f"bench{time.monotonic_ns()}", name="Bench")
    user = get_user_model().objects.create_user(username=f"bench{time.monotonic_ns()}", password="x")
    Membership.objects.create(tenant=tenant, user=user, role=Role.EDITOR)
    graph = {"name": "per account", "parameters": [{"name": "accounts", "type": "list", "default": []}],
             "nodes": [{"id": "ingest", "notebook": "ingest.ipynb", "outputs": ["path"]},
                       {"id": "train", "notebook": "train.ipynb", "map_over": "accounts", "map_parameter": "account",
                        "outputs": ["auc"]},
                       {"id": "report", "notebook": "report.ipynb", "outputs": ["best"]}],
             "edges": [{"source": "ingest", "target": "train"}, {"source": "train", "target": "report"}]}
    workflow = workflow_create(tenant=tenant, graph=graph).workflow
    run = Run.objects.create(tenant=tenant, workflow=workflow, version=workflow.versions.get(), status=Status.SUCCESS)
    now = timezone.now()
    accounts = [f"account-{i:05d}" for i in range(args.items)]
    NodeRun.objects.bulk_create([
        NodeRun(run=run, node="ingest", status=Status.SUCCESS, attempts=1, outputs={"path": "/data/x.parquet"}),
        NodeRun(run=run, node="train", status=Status.SUCCESS, attempts=1,
                outputs={"auc": [0.5 + i % 50 / 100 for i in range(args.items)], "map_items": accounts}),
        NodeRun(run=run, node="report", status=Status.SUCCESS, attempts=1, outputs={"best": accounts[0]}),
        *(NodeRun(run=run, node="train", map_index=i, status=Status.SUCCESS, attempts=1, parameters={"account": a},
                  outputs={"auc": 0.5 + i % 50 / 100}, started_at=now, ended_at=now + timedelta(seconds=i % 9))
          for i, a in enumerate(accounts)),
    ], batch_size=1000)

    client = APIClient()
    client.force_authenticate(user)
    url = f"/api/tenants/{tenant.slug}/runs/{run.pk}/"
    response = client.get(url)
    assert response.status_code == 200, response.content

    def old_response() -> bytes:
        # What run details answered before: every node row, items included, in graph order.
        position = {nid: i for i, nid in enumerate(graph_order(run.version.graph))}
        rows = sorted(run.node_runs.defer("notebook", "log"),
                      key=lambda r: (position.get(r.node, 9), -1 if r.map_index is None else r.map_index))
        run.nodes = rows
        return JSONRenderer().render(RunDetailSerializer(run).data)

    new_ms = timed(lambda: client.get(url), args.runs)
    old_ms = timed(old_response, max(5, args.runs // 5))
    page_ms = timed(lambda: client.get(f"{url}nodes/train/items/", {"sort": "-outputs.auc"}), args.runs)
    old_size = len(old_response())
    db = "PostgreSQL" if "postgres" in os.environ["DATABASE_URL"] else "SQLite"
    print(f"run details, {args.items:,} items ({db}), median of {args.runs}:")
    print(f"  GET .../runs/{{id}}/ (whole request): {new_ms:.1f} ms, {len(response.content):,} bytes "
          f"(target <= {TARGET_MS} ms: {'met' if new_ms <= TARGET_MS else 'NOT met'})")
    print(f"  baseline, the old response (every item inline; queries + serialization only): {old_ms:.1f} ms, "
          f"{old_size:,} bytes")
    print(f"  ratio old/new: {old_ms / new_ms:.1f}x time, {old_size / len(response.content):.0f}x size")
    print(f"  one page of items (100, sort=-outputs.auc): {page_ms:.1f} ms")
    print(f"  uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
