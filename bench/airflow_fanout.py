"""Benchmark of a large fan-out on Airflow (one command: `.venv/bin/python bench/airflow_fanout.py`).

Starts a real Airflow 3.3 (LocalExecutor, SQLite, the settings of tests/airflow_support.py,
max_map_length 10,000) and a Loom worker mirroring it, all in a temporary folder (stopped by PID
at the end), like bench/airflow_engine.py. Then, with a trivial notebook (`y = x + 1`):

- requests per poll of the mirror (runs.engines.airflow.mirror) for a run of `--poll-items`
  (default 1,000 and 5,000) items once Airflow has expanded them: the first poll of the run
  (lists them all, 100 per request) and the next `--polls` (only what changed since); counted
  here, on this process's own calls of `airflow_runs_sync`, then the DAG run is failed;
- unless `--no-run`: a fan-out of `--items` (default 1,000) items, POST to end in Loom, against
  a hand-written DAG that maps papermill over the same items (the pattern of
  bench/dag_handwritten_churn.py), trigger to end.

Airflow runs each mapped task in a process of its own (several seconds of CPU each): on 2 cores
the 1,000-item runs take long. The load average is printed with the figures.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.mkdtemp(prefix="loom-bench-airflow-fanout-"))
sys.path[:0] = [str(REPO / "backend"), str(REPO / "tests"), str(REPO)]

HANDWRITTEN = '''
import datetime
from airflow.sdk import DAG, task

@task
def items():
    return list(range({n}))

@task
def step(x, **context):
    import papermill
    out = "{out}/%s-%s.ipynb" % (context["ti"].run_id.replace(":", "_"), context["ti"].map_index)
    papermill.execute_notebook("{source}", out, parameters={{"x": x}}, progress_bar=False)

with DAG(dag_id="handwritten_fanout", schedule=None, start_date=datetime.datetime(2026, 1, 1), catchup=False,
         max_active_tasks=16) as dag:
    step.expand(x=items())
'''


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--poll-items", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--polls", type=int, default=5, help="incremental polls measured after the first")
    parser.add_argument("--no-run", action="store_true", help="only the requests per poll")
    parser.add_argument("--poll", type=float, default=1.0, help="LOOM_AIRFLOW_POLL_S of the worker")
    args = parser.parse_args()

    from tests.airflow_support import PASSWORD, USERNAME, airflow_home

    server = airflow_home(TMP / "airflow", AIRFLOW__CORE__PARALLELISM="16")
    server.start()
    print(f"Airflow 3.3 up at {server.url} ({os.cpu_count()} cores)", flush=True)
    loom_env = {
        "LOOM_DATA_DIR": str(TMP / "var"), "LOOM_QUEUE": f"bench-{os.getpid()}", "DJANGO_SETTINGS_MODULE": "loom.settings",
        "LOOM_AIRFLOW_URL": server.url, "LOOM_AIRFLOW_USERNAME": USERNAME, "LOOM_AIRFLOW_PASSWORD": PASSWORD,
        "LOOM_AIRFLOW_DAGS_DIR": str(server.dags / "loom"), "LOOM_AIRFLOW_ARTIFACTS_DIR": str(TMP / "artifacts"),
        "LOOM_AIRFLOW_POLL_S": str(args.poll), "LOOM_AIRFLOW_TIMEOUT_S": "60",
    }
    os.environ.update(loom_env)
    os.environ.pop("DATABASE_URL", None)
    try:
        run(args, server, loom_env)
    finally:
        server.stop()


def run(args, server, loom_env: dict):
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    client, flows = setup(sorted({*args.poll_items, *([] if args.no_run else [args.items])}))
    lines = []
    for n in args.poll_items:
        first, steady = requests_per_poll(client, flows[n], args.polls)
        lines.append(f"mirror, {n:,} items: first poll of the run {first} requests; then per poll "
                     f"median {statistics.median(steady):g} (max {max(steady)}) ({load()})")
        print(lines[-1], flush=True)
    if not args.no_run:
        from tests.runs.support import worker_start

        with worker_start(TMP / "worker", **{k: v for k, v in loom_env.items() if k != "LOOM_QUEUE"}):
            before = load()
            loom = run_to_end(client, flows[args.items])
            lines.append(f"Loom on Airflow, {args.items:,} items, POST to end: {loom:.1f} s ({before} at the start, {load()} at the end)")
            print(lines[-1], flush=True)
        before = load()
        hand = handwritten(server, args.items)
        lines.append(f"hand-written DAG mapping papermill, {args.items:,} items, trigger to end: {hand:.1f} s "
                     f"({before} at the start, {load()} at the end)")
        lines.append(f"Loom takes {loom / hand:.2f} x the hand-written DAG's time")
    print("\n" + "\n".join(lines))


def setup(sizes: list[int]):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from catalog.services import notebook_upload
    from deployments.services import deployment_deploy, deployment_wait
    from helpers import notebook_bytes
    from tenancy.models import Membership, Tenant
    from workflows.selectors import workflow_version_get
    from workflows.services import workflow_create

    tenant = Tenant.objects.create(slug="bench", name="Bench", concurrency_quota=16)
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    notebook_upload(tenant=tenant, name="step.ipynb", data=notebook_bytes("x = 0", "y = x + 1"))
    flows = {}
    for n in sizes:
        flows[n] = workflow_create(tenant=tenant, graph={
            "name": f"fan{n}", "parameters": [{"name": "xs", "type": "list", "default": list(range(n))}],
            "nodes": [{"id": "each", "notebook": "step.ipynb", "map_over": "xs", "map_parameter": "x", "outputs": ["y"]}],
        }).workflow
        deployment_wait(deployment=deployment_deploy(version=workflow_version_get(workflow=flows[n])))
    client = APIClient()
    client.force_authenticate(user)
    return client, flows


def post(client, workflow) -> int:
    response = client.post(f"/api/tenants/bench/workflows/{workflow.pk}/runs/", {"engine": "airflow"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def requests_per_poll(client, workflow, polls: int) -> tuple[int, list[int]]:
    """Start a run (submitted from here, no worker), wait for Airflow to expand its items, then
    count the requests of each of this process's polls; the DAG run is failed at the end."""
    from airflow_client import client as ac

    from deployments.client import AirflowError, AirflowUnavailable, airflow_client
    from runs.engines.airflow.mirror import airflow_runs_sync
    from runs.engines.airflow.states import dag_id
    from runs.engines.airflow.submit import airflow_run_submit, dag_run_fail
    from runs.models import Run

    run_id = post(client, workflow)
    airflow_run_submit(run_id=run_id)
    run = Run.objects.get(pk=run_id)
    api = airflow_client()
    n = len(workflow.versions.order_by("-number").first().graph["parameters"][0]["default"])
    deadline = time.monotonic() + 600
    while True:
        try:
            if api.task_instances.get_task_instances(dag_id(run), run.external_id, limit=1).total_entries >= n:
                break
        except AirflowUnavailable:  # busy creating thousands of task instances on 2 cores
            pass
        assert time.monotonic() < deadline, "Airflow did not expand the items"
        time.sleep(2)
    counts = Counter()
    original = ac.ApiClient.call_api

    def counted(self, method, url, *a, **kw):
        counts["all"] += 1
        return original(self, method, url, *a, **kw)

    ac.ApiClient.call_api = counted
    try:
        per_poll = []
        for _ in range(1 + polls):
            counts.clear()
            airflow_runs_sync()
            per_poll.append(counts["all"])
            time.sleep(1)
    finally:
        ac.ApiClient.call_api = original
        for attempt in range(5):  # Airflow's SQLite can be busy with thousands of task instances
            try:
                dag_run_fail(Run.objects.get(pk=run_id))
                break
            except AirflowError as e:
                print(f"failing the DAG run: {e}; again in 5 s", flush=True)
                time.sleep(5)
        # Mirrored to its end here, uncounted: the next measured run's polls would sync this one too.
        deadline = time.monotonic() + 300
        while Run.objects.filter(pk=run_id, status__in=("queued", "running")).exists() and time.monotonic() < deadline:
            airflow_runs_sync()
            time.sleep(1)
    return per_poll[0], per_poll[1:]


def run_to_end(client, workflow) -> float:
    from runs.models import Run

    started = time.perf_counter()
    run_id = post(client, workflow)
    while (status := Run.objects.filter(pk=run_id).values_list("status", flat=True).get()) in ("queued", "running"):
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    assert status == "success", Run.objects.get(pk=run_id).error
    return elapsed


def handwritten(server, n: int) -> float:
    """Trigger the hand-written DAG once its file is parsed; seconds until its DAG run ends (and
    how many of its tasks failed, when some did)."""
    from airflow_client import client as ac

    from deployments.client import airflow_client
    from helpers import notebook_bytes

    source, out = TMP / "step.ipynb", TMP / "handwritten-out"
    source.write_bytes(notebook_bytes("x = 0", "y = x + 1"))
    out.mkdir()
    (server.dags / "handwritten_fanout.py").write_text(HANDWRITTEN.format(n=n, source=source, out=out))
    api = airflow_client()
    deadline = time.monotonic() + 300
    while True:
        try:
            api.dags.patch_dag("handwritten_fanout", ac.DAGPatchBody(is_paused=False))
            break
        except Exception:  # noqa: BLE001 - not parsed yet
            assert time.monotonic() < deadline, "Airflow did not parse the hand-written DAG"
            time.sleep(1)
    started = time.perf_counter()
    dag_run = api.dag_runs.trigger_dag_run("handwritten_fanout", ac.TriggerDAGRunPostBody(logical_date=None))
    while (state := str(api.dag_runs.get_dag_run("handwritten_fanout", dag_run.dag_run_id).state)) not in (
            "success", "failed", "DagRunState.SUCCESS", "DagRunState.FAILED"):
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    if "success" not in state.lower():  # plain papermill's kernels on TCP ports lose a few items under load
        failed = api.task_instances.get_mapped_task_instances("handwritten_fanout", dag_run.dag_run_id, "step",
                                                              state=["failed"], limit=1).total_entries
        print(f"hand-written DAG run {state}: {failed} of {n:,} mapped tasks failed (see its scheduler log)", flush=True)
    return elapsed


if __name__ == "__main__":
    main()
