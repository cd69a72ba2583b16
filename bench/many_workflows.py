"""Benchmark: 1,000 workflows across 50 tenants deployed to one real Airflow.

    .venv/bin/python bench/many_workflows.py [--tenants 50] [--per-tenant 20] [--timeout 3600]

Starts Airflow 3.3 (tests/airflow_support.py: api-server, scheduler, dag-processor with one
parsing process, SQLite) and Loom on a scratch PostgreSQL database, in a temporary folder; makes
the tenants (each with the demo notebooks and one editor) and their workflows (the demo "Churn
per account", 3 nodes, fanned out; no schedule, so Airflow starts no run), deploys every one through Loom (4 at a time), and reports:
- deploys: time, and Airflow requests a deploy makes;
- parsing: the time until Airflow lists every DAG, import errors (target: none), and Airflow's
  total parse time per DAG-processor loop (the sum of each file's last parse duration, from
  the dag-processor's "DAG File Processing Stats");
- Loom's mirror (`airflow_runs_sync`, run every LOOM_AIRFLOW_POLL_S): Airflow requests and time
  per poll, while deployments wait for their parse and once all are deployed (no active run);
- the workflow list (`GET /api/tenants/<t>/workflows/`) per tenant: median, p95 and worst
  (target ≤ 100 ms), with the machine's load (`uptime`) beside each figure.
There is no runnable baseline: Loom alone is measured; targets are the issue's (13).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="loom-bench-many-"))
sys.path[:0] = [str(REPO / "backend"), str(REPO / "tests"), str(REPO)]
LIST_TARGET_S = 0.100
STATS_ROW = re.compile(r"(\S+\.py)\s.*?\s(\d+)\s+(\d+)\s+([\d.]+)s\s+(\d{4}-\d\d-\d\dT[\d:]+)\s*$")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class Requests:
    """Counts the HTTP requests this process sends (Loom's Airflow client is urllib3)."""

    def __init__(self):
        import urllib3

        self.count, self.lock = 0, threading.Lock()
        real = urllib3.connectionpool.HTTPConnectionPool.urlopen

        def counted(pool, *args, **kwargs):
            with self.lock:
                self.count += 1
            return real(pool, *args, **kwargs)

        urllib3.connectionpool.HTTPConnectionPool.urlopen = counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--per-tenant", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for Airflow to list every DAG")
    parser.add_argument("--database", default=os.environ.get("LOOM_BENCH_DATABASE", "postgres://postgres@127.0.0.1:5432/"))
    args = parser.parse_args()

    import psycopg

    from tests.airflow_support import PASSWORD, USERNAME, airflow_home

    name = f"loom_bench_many_{os.getpid()}"
    admin_url = args.database.rstrip("/") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    print(f"start: {uptime()}", flush=True)
    server = airflow_home(TMP / "airflow", AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL="20",
                          AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT="120")
    try:
        started = time.perf_counter()
        server.start()
        print(f"Airflow 3.3 up in {time.perf_counter() - started:.0f} s at {server.url}", flush=True)
        os.environ.update({
            "DATABASE_URL": args.database.rstrip("/") + f"/{name}", "LOOM_DATA_DIR": str(TMP / "var"),
            "DJANGO_SETTINGS_MODULE": "loom.settings", "LOOM_LOG_LEVEL": "WARNING",
            "LOOM_AIRFLOW_URL": server.url, "LOOM_AIRFLOW_USERNAME": USERNAME, "LOOM_AIRFLOW_PASSWORD": PASSWORD,
            "LOOM_AIRFLOW_DAGS_DIR": str(server.dags / "loom"), "LOOM_AIRFLOW_ARTIFACTS_DIR": str(TMP / "artifacts"),
            "LOOM_AIRFLOW_PARSE_TIMEOUT_S": str(args.timeout),
        })
        os.environ.pop("REDIS_URL", None)
        return run(args, server)
    finally:
        server.stop()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args, server) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    requests = Requests()
    versions, users = setup(args.tenants, args.per_tenant)
    total = len(versions)

    from deployments.client import airflow_client
    from deployments.models import Deployment, DeploymentStatus
    from runs.engines.airflow.mirror import airflow_runs_sync

    before, started = requests.count, time.perf_counter()
    deploy_all(versions)
    deploy_s = time.perf_counter() - started
    print(f"deployed {total} workflows of {args.tenants} tenants in {deploy_s:.0f} s ({deploy_s / total * 1000:.0f} ms each), "
          f"{(requests.count - before) / total:.1f} Airflow requests a deploy | {uptime()}", flush=True)

    def poll(label: str):
        before, t = requests.count, time.perf_counter()
        airflow_runs_sync()
        print(f"  mirror poll {label}: {requests.count - before} Airflow requests, {time.perf_counter() - t:.2f} s | {uptime()}",
              flush=True)

    poll(f"with {Deployment.objects.filter(status=DeploymentStatus.DEPLOYING).count()} deployments waiting for their parse")
    client = airflow_client()
    deadline = time.monotonic() + args.timeout
    while True:
        listed = client.dags.get_dags(dag_id_pattern="loom__", limit=1).total_entries
        errors = client.import_errors.get_import_errors(limit=100)
        if listed >= total or errors.total_entries or time.monotonic() > deadline:
            break
        time.sleep(10)
    parsed_s = time.perf_counter() - started
    print(f"Airflow lists {listed} of {total} DAGs {parsed_s:.0f} s after the first deploy began; import errors: "
          f"{errors.total_entries} | {uptime()}", flush=True)
    for e in errors.import_errors[:5]:
        print(f"  {e.filename}: {e.stack_trace.strip().splitlines()[-1]}")

    while Deployment.objects.filter(status=DeploymentStatus.DEPLOYING).exists() and time.monotonic() < deadline:
        poll(f"with {Deployment.objects.filter(status=DeploymentStatus.DEPLOYING).count()} deployments waiting for their parse")
    counts = {s: Deployment.objects.filter(status=s).count() for s in DeploymentStatus.values}
    print(f"deployments: {counts}", flush=True)
    for i in range(3):
        poll(f"{i + 1} of 3, all deployed, no active run")

    parse_loop(server, total)
    list_times(users)
    ok = listed >= total and not errors.total_entries and counts.get(DeploymentStatus.DEPLOYED) == total
    print(f"machine: {os.cpu_count()} cores; {uptime()}")
    return 0 if ok else 1


def setup(tenants: int, per_tenant: int):
    """The tenants, each with the demo notebooks, one editor and its workflows; their versions and users."""
    from django.contrib.auth import get_user_model

    from catalog.services import notebooks_sync
    from tenancy.models import Membership, Tenant
    from workflows.demo import CHURN_GRAPH
    from workflows.services import workflow_create

    versions, users = [], {}
    for t in range(tenants):
        tenant = Tenant.objects.create(slug=f"team{t:02d}", name=f"Team {t}", concurrency_quota=4)
        users[tenant.slug] = get_user_model().objects.create_user(f"editor{t:02d}")
        Membership.objects.create(tenant=tenant, user=users[tenant.slug], role="editor")
        notebooks_sync(tenant=tenant)
        for w in range(per_tenant):
            # Manual (no schedule): Airflow would otherwise start a run of each on unpause.
            graph = {**CHURN_GRAPH, "name": f"Churn {w:02d}", "schedule": None}
            versions.append(workflow_create(tenant=tenant, graph=graph))
    return versions, users


def deploy_all(versions) -> None:
    from django.db import close_old_connections, connection

    from deployments.services import deployment_deploy

    def deploy(version):
        try:
            deployment_deploy(version=version)
        finally:
            close_old_connections()
            connection.close()

    # Each tenant's first deploy alone: concurrent first deploys of one tenant both create its
    # Airflow pool, and the second gets 409 (airflow_pools_sync does not take that race).
    firsts = list({v.workflow.tenant_id: v for v in reversed(versions)}.values())
    for version in firsts:
        deploy(version)
    with ThreadPoolExecutor(4) as pool:
        rest = [v for v in versions if v not in firsts]
        for done, _ in enumerate(pool.map(deploy, rest), len(firsts) + 1):
            if done % 100 == 0:
                print(f"  {done} deployed | {uptime()}", flush=True)


def parse_loop(server, total: int, wait_s: float = 600) -> None:
    """Airflow's parse time per DAG-processor loop: from its latest stats table listing every file."""
    deadline = time.monotonic() + wait_s
    while True:
        tables = server.log("dag-processor").split("DAG File Processing Stats")
        rows = [m for m in (STATS_ROW.search(line) for line in tables[-1].splitlines()) if m] if len(tables) > 1 else []
        if len(rows) >= total or time.monotonic() > deadline:
            break
        time.sleep(10)
    durations = [float(m.group(4)) for m in rows]
    if not durations:
        print("Airflow's parse stats: none logged")
        return
    print(f"Airflow's DAG processor (1 parsing process), last loop over {len(rows)} files: total parse time "
          f"{sum(durations):.0f} s, per file median {statistics.median(durations):.2f} s, worst {max(durations):.2f} s; "
          f"files with errors: {sum(int(m.group(3)) > 0 for m in rows)} | {uptime()}", flush=True)


def list_times(users: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    times, queries = [], set()
    for slug, user in users.items():
        client = APIClient()
        client.force_authenticate(user)
        assert client.get(f"/api/tenants/{slug}/workflows/").status_code == 200  # warm
        for _ in range(5):
            with CaptureQueriesContext(connection) as q:
                start = time.perf_counter()
                response = client.get(f"/api/tenants/{slug}/workflows/")
                times.append(time.perf_counter() - start)
            assert response.status_code == 200 and len(response.json()) >= 1
            queries.add(len(q))
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"workflow list API per tenant ({len(users)} tenants × 5, {len(response.json())} workflows each, "
          f"{'/'.join(map(str, sorted(queries)))} queries): median {statistics.median(times) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, worst {times[-1] * 1000:.1f} ms; target ≤ {LIST_TARGET_S * 1000:.0f} ms: "
          f"ratio {p95 / LIST_TARGET_S:.2f} (≤ 1 meets it) | {uptime()}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
