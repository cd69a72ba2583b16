"""Benchmark of the Airflow engine (one command: `.venv/bin/python bench/airflow_engine.py`).

Starts a real Airflow 3.3 (api-server, scheduler, dag-processor; LocalExecutor, SQLite, the
fast settings of tests/airflow_support.py) from airflow/venv.sh's venv, and a Loom worker
mirroring it every --poll seconds, all in a temporary folder; stops them by PID at the end.
Measures, with a trivial notebook (`y = x + 1`):
- save-to-DAG-visible: from the deploy writing the DAG file to Airflow answering with exactly
  that source (the deploy then unpauses it), for a new DAG and for a new version of a deployed one;
- trigger-to-first-task: from the POST that starts a run of a deployed one-node workflow to the
  start of its task in Airflow (Airflow's start_date; same machine, same clock), and to the
  node showing `running` in Loom's API;
- a chain of 10 notebooks: POST to the run's end in Loom, on Airflow and on the local engine.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="loom-bench-airflow-"))
sys.path[:0] = [str(REPO / "backend"), str(REPO / "tests"), str(REPO)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each kind (median and best shown)")
    parser.add_argument("--poll", type=float, default=0.5, help="LOOM_AIRFLOW_POLL_S of the worker (default 0.5)")
    args = parser.parse_args()

    from tests.airflow_support import PASSWORD, USERNAME, airflow_home

    started = time.perf_counter()
    server = airflow_home(TMP / "airflow")
    server.start()
    print(f"Airflow 3.3 up in {time.perf_counter() - started:.1f} s at {server.url} ({os.cpu_count()} cores)", flush=True)
    loom_env = {
        "LOOM_DATA_DIR": str(TMP / "var"), "LOOM_QUEUE": f"bench-{os.getpid()}", "DJANGO_SETTINGS_MODULE": "loom.settings",
        "LOOM_AIRFLOW_URL": server.url, "LOOM_AIRFLOW_USERNAME": USERNAME, "LOOM_AIRFLOW_PASSWORD": PASSWORD,
        "LOOM_AIRFLOW_DAGS_DIR": str(server.dags / "loom"), "LOOM_AIRFLOW_ARTIFACTS_DIR": str(TMP / "artifacts"),
        "LOOM_AIRFLOW_POLL_S": str(args.poll),
    }
    os.environ.update(loom_env)
    os.environ.pop("DATABASE_URL", None)
    try:
        run(args, loom_env)
    finally:
        server.stop()


def run(args, loom_env: dict):
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.runs.support import worker_start

    client, tenant, workflows = setup()
    # The worker's queue is the one worker_start gives it (this process sends there too).
    with worker_start(TMP / "worker", **{k: v for k, v in loom_env.items() if k != "LOOM_QUEUE"}):
        visible_new, visible_version = save_to_visible(tenant, workflows, args.repeat)
        first_task_airflow, first_task_loom = trigger_to_first_task(client, workflows["one"], args.repeat)
        from deployments.services import deployment_deploy, deployment_wait
        from workflows.selectors import workflow_version_get

        deployment_wait(deployment=deployment_deploy(version=workflow_version_get(workflow=workflows["chain"])))  # deployed before it is timed
        chain_airflow = [run_once(client, workflows["chain"], "airflow") for _ in range(args.repeat)]
        chain_local = []
        for _ in range(args.repeat):
            time.sleep(3)  # an idle worker: its kernel pool has refilled
            chain_local.append(run_once(client, workflows["chain"], "local"))

    def line(label, values, unit="s"):
        values = sorted(values)
        return f"{label:46}{statistics.median(values):>9.2f} {unit}{values[0]:>9.2f} {unit}   ({', '.join(f'{v:.2f}' for v in values)})"

    print()
    print(f"{'':46}{'median':>11}{'best':>11}   (all)")
    print(line("save-to-DAG-visible, new DAG", visible_new))
    print(line("save-to-DAG-visible, new version", visible_version))
    print(line("trigger-to-first-task (Airflow's task start)", first_task_airflow))
    print(line("trigger-to-first-task (running in Loom's API)", first_task_loom))
    print(line("chain of 10 on Airflow, POST to end in Loom", chain_airflow))
    print(line("chain of 10 on the local engine", chain_local))
    print()
    worst_visible = max(visible_new + visible_version)
    print(f"save-to-DAG-visible: worst {worst_visible:.2f} s (target <= 5 s: {'met' if worst_visible <= 5 else 'NOT met'})")
    ratio = statistics.median(chain_airflow) / statistics.median(chain_local)
    print(f"chain of 10: Airflow takes {ratio:.1f} x the local engine's time "
          f"({statistics.median(chain_airflow) / 10:.2f} s against {statistics.median(chain_local) / 10:.2f} s per notebook); "
          f"the mirror polls every {args.poll:g} s")


def setup():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from catalog.services import notebook_upload
    from helpers import notebook_bytes
    from tenancy.models import Membership, Tenant
    from workflows.services import workflow_create

    tenant = Tenant.objects.create(slug="bench", name="Bench", concurrency_quota=16)
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    notebook_upload(tenant=tenant, name="step.ipynb", data=notebook_bytes("x = 0", "y = x + 1"))
    step = {"notebook": "step.ipynb", "outputs": ["y"]}
    workflows = {
        "one": workflow_create(tenant=tenant, graph={"name": "one", "nodes": [{"id": "s", **step}]}).workflow,
        "chain": workflow_create(tenant=tenant, graph={
            "name": "chain10", "nodes": [{"id": f"s{i}", **step} for i in range(10)],
            "edges": [{"source": f"s{i}", "target": f"s{i + 1}", "bind": {"y": "x"}} for i in range(9)],
        }).workflow,
    }
    for i in range(3):
        workflows[f"visible{i}"] = workflow_create(tenant=tenant, graph={"name": f"v{i}", "nodes": [{"id": "s", **step}]}).workflow
    client = APIClient()
    client.force_authenticate(user)
    return client, tenant, workflows


def save_to_visible(tenant, workflows, repeat: int) -> tuple[list, list]:
    """Deploy (the file is written) until Airflow serves exactly that source, measured by the
    deploy's own check loop (every 0.1 s)."""
    from deployments.services import deployment_deploy, deployment_wait
    from workflows.selectors import workflow_version_get
    from workflows.services import workflow_update

    new, version = [], []
    for i in range(min(repeat, 3)):
        deployment = deployment_wait(deployment=deployment_deploy(version=workflow_version_get(workflow=workflows[f"visible{i}"])), interval=0.1)
        assert deployment.status == "deployed", deployment.error
        new.append(deployment.parse_seconds)
    workflow = workflows["visible0"]
    for i in range(repeat):
        graph = {**workflow.versions.order_by("-number").first().graph, "description": f"edit {i}"}
        workflow_update(workflow=workflow, graph=graph, base_version=workflow.latest_version)
        workflow.refresh_from_db()
        deployment = deployment_wait(deployment=deployment_deploy(version=workflow_version_get(workflow=workflow)), interval=0.1)
        assert deployment.status == "deployed", deployment.error
        version.append(deployment.parse_seconds)
    return new, version


def trigger_to_first_task(client, workflow, repeat: int) -> tuple[list, list]:
    from deployments.client import airflow_client
    from deployments.services import deployment_deploy, deployment_wait
    from workflows.selectors import workflow_version_get

    deployment_wait(deployment=deployment_deploy(version=workflow_version_get(workflow=workflow)))
    to_airflow, to_loom = [], []
    for _ in range(repeat):
        posted = time.perf_counter()
        posted_at = datetime.now(timezone.utc)
        response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": "airflow"}, format="json")
        assert response.status_code == 201, response.content
        run_id = response.json()["id"]
        while True:
            detail = client.get(f"/api/tenants/bench/runs/{run_id}/").json()
            if detail["nodes"][0]["status"] != "queued":
                to_loom.append(time.perf_counter() - posted)
                break
            time.sleep(0.02)
        while detail["status"] in ("queued", "running"):
            time.sleep(0.1)
            detail = client.get(f"/api/tenants/bench/runs/{run_id}/").json()
        assert detail["status"] == "success", detail
        dag_id = f"loom__bench__{workflow.pk}"
        ti = airflow_client().task_instances.get_task_instances(dag_id, detail["external_id"]).task_instances[0]
        to_airflow.append((ti.start_date - posted_at).total_seconds())
    return to_airflow, to_loom


def run_once(client, workflow, engine: str) -> float:
    from runs.models import Run

    started = time.perf_counter()
    response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": engine}, format="json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    while (status := Run.objects.filter(pk=run_id).values_list("status", flat=True).get()) in ("queued", "running"):
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    assert status == "success", client.get(f"/api/tenants/bench/runs/{run_id}/").json()
    print(f"  chain of 10 on {engine}: {elapsed:.2f} s", flush=True)
    return elapsed


if __name__ == "__main__":
    main()
