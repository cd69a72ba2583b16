"""The Airflow engine end to end: API → deploy → Airflow 3.3 runs the DAG → the mirror → API."""
import datetime
import os
import time

import nbformat
import pytest

from catalog.services import notebooks_sync
from deployments.client import airflow_client
from runs.models import NodeRun
from runtime.sandbox import UNSANDBOXED_WARNING
from tests.runs.support import nodes_of, wait_run
from workflows.demo import CHURN_GRAPH

pytestmark = pytest.mark.airflow


def test_churn_on_airflow_gives_the_local_engines_outputs(airflow_engine, api, tenant, run_wf):
    """The demo workflow (ingest → train fanned out per account → report) on both engines."""
    notebooks_sync(tenant=tenant)
    graph = {**CHURN_GRAPH, "schedule": None}
    wid = api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json").json()["id"]
    parameters = {"accounts": ["acme", "globex", "initech", "umbrella"]}

    on_airflow = run_wf(wid, parameters, engine="airflow", timeout=180)
    on_local = run_wf(wid, parameters, engine="local", timeout=60)
    assert on_airflow["status"] == on_local["status"] == "success", "\n".join(
        f"{run['engine']} {n['node']} {n['map_index']}: {n['status']} {n['error']}" for run in (on_airflow, on_local) for n in run["nodes"])
    assert on_airflow["engine"] == "airflow" and on_airflow["external_id"].startswith(f"loom-{on_airflow['id']}-")
    assert on_airflow["parameters"] == parameters and on_airflow["error"] == ""

    # Parity: the same node runs, item by item, with the same outputs. The dataset is a file in each
    # engine's own artifacts folder, so its path differs by that folder only.
    airflow_nodes, local_nodes = nodes_of(on_airflow), nodes_of(on_local)
    assert list(airflow_nodes) == list(local_nodes) == [
        "ingest", "train", ("train", 0), ("train", 1), ("train", 2), ("train", 3), "report"]
    for key, node in airflow_nodes.items():
        outputs, expected = dict(node["outputs"]), dict(local_nodes[key]["outputs"])
        if key == "ingest":
            assert os.path.basename(outputs.pop("dataset_path")) == os.path.basename(expected.pop("dataset_path"))
        assert outputs == expected, key
        assert (node["status"], node["attempts"], node["error"]) == ("success", 1, None), key
        assert node["started_at"] and node["ended_at"] and node["started_at"] <= node["ended_at"], key
    assert airflow_nodes["train"]["outputs"]["auc"] == [airflow_nodes["train", i]["outputs"]["auc"] for i in range(4)]
    # Both engines run these notebooks unsandboxed (LOOM_SANDBOX off, Airflow's default): each node run
    # that executed says so, in the same words (the task logs it; the mirror reads it back).
    for key, node in airflow_nodes.items():
        assert node["warnings"] == local_nodes[key]["warnings"] == ([] if key == "train" else [UNSANDBOXED_WARNING]), key
    assert airflow_nodes["ingest"]["outputs"]["row_count"] == 600  # 4 accounts x 150 customers

    # The executed notebooks (from the artifacts folder Airflow's tasks wrote) and the task logs.
    base = f"/api/tenants/{tenant.slug}/runs/{on_airflow['id']}/nodes"
    item = api.get(f"{base}/train/notebook/?map_index=3")
    assert item.status_code == 200 and "umbrella" in item.content.decode()
    html = api.get(f"{base}/report/notebook/?format=html")
    assert html.status_code == 200 and b"mean AUC" in html.content
    # A task log: read from Airflow when first asked for (the mirror took the results from the
    # artifacts folder), then stored.
    log = api.get(f"{base}/report/log/").json()["text"]
    assert "::group::Pre Execute" in log or "DAG bundles loaded" in log, log[:500]
    assert NodeRun.objects.get(run_id=on_airflow["id"], node="report").log == log

    # Airflow ran it as Loom asked: the run's parameters are the DAG run's conf.
    dag_run = airflow_client().dag_runs.get_dag_run(f"loom__{tenant.slug}__{wid}", on_airflow["external_id"])
    assert dag_run.conf == parameters


def test_a_failure_names_its_cell_and_repair_reruns_only_what_failed(airflow_engine, api, tenant, nb, workflow, run_wf,
                                                                     tmp_path):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    nb("flaky.ipynb", "item = 'ok'\nflag = ''",
       "import os\nif item == 'bad' and not os.path.exists(flag):\n    open(flag, 'w').write('x')\n"
       "    raise RuntimeError(f'the first try of {item} fails')",
       "out = item.upper()")
    nb("join.ipynb", "outs = []\none = ''", "joined = ','.join(outs) + '+' + one")
    wid = workflow(
        parameters=[{"name": "items", "type": "list", "default": ["ok", "bad", "fine"]}],
        nodes=[
            {"id": "prep", "notebook": "step.ipynb", "outputs": ["y"]},
            {"id": "check", "notebook": "flaky.ipynb", "outputs": ["out"],
             "parameters": {"item": "bad", "flag": str(tmp_path / "check")}},
            {"id": "each", "notebook": "flaky.ipynb", "map_over": "items", "map_parameter": "item",
             "parameters": {"flag": str(tmp_path / "each")}, "outputs": ["out"]},
            {"id": "join", "notebook": "join.ipynb", "outputs": ["joined"]},
        ],
        edges=[{"source": "prep", "target": "check", "bind": {}}, {"source": "prep", "target": "each", "bind": {}},
               {"source": "each", "target": "join", "bind": {"out": "outs"}},
               {"source": "check", "target": "join", "bind": {"out": "one"}}],
    )
    failed = run_wf(wid, engine="airflow", timeout=180)
    nodes = nodes_of(failed)
    assert failed["status"] == "failed" and "check (failed)" in failed["error"] and "join (upstream_failed)" in failed["error"]
    assert nodes["prep"]["status"] == "success" and nodes["prep"]["outputs"] == {"y": 2}
    # The error the task left in XCom: the cell, its source and its traceback, as on the local engine.
    error = nodes["check"]["error"]
    assert error["message"] == "Cell 3 raised RuntimeError: the first try of bad fails", error
    assert error["cell_index"] == 3 and "raise RuntimeError" in error["cell_source"] and "RuntimeError" in error["traceback"]
    assert [nodes["each", i]["status"] for i in range(3)] == ["success", "failed", "success"]
    assert nodes["each"]["status"] == "failed" and nodes["each"]["error"]["message"].startswith("1 of 3 items did not succeed")
    assert nodes["join"]["status"] == "upstream_failed"
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{failed['id']}/nodes/check/notebook/").status_code == 200

    response = api.post(f"/api/tenants/{tenant.slug}/runs/{failed['id']}/repair/")
    assert response.status_code == 200, response.content
    repaired = wait_run(api, tenant.slug, failed["id"], timeout=180)
    after = nodes_of(repaired)
    assert repaired["status"] == "success", repaired
    # What succeeded ran once and kept its outputs; what failed ran again in the same DAG run.
    assert after["prep"]["attempts"] == 1 and after["prep"]["ended_at"] == nodes["prep"]["ended_at"]
    assert [after["each", i]["attempts"] for i in range(3)] == [1, 2, 1]
    assert after["each", 0]["ended_at"] == nodes["each", 0]["ended_at"]
    assert after["check"]["attempts"] == 2 and after["check"]["error"] is None
    assert after["each"]["outputs"] == {"out": ["OK", "BAD", "FINE"], "map_items": ["ok", "bad", "fine"]}
    assert after["join"]["outputs"] == {"joined": "OK,BAD,FINE+BAD"}
    assert repaired["external_id"] == failed["external_id"]


def test_cancel_fails_the_dag_run_in_airflow(airflow_engine, api, tenant, nb, workflow, run_wf):
    nb("sleep.ipynb", "seconds: int = 120", "import time\ntime.sleep(seconds)")
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "nap", "notebook": "sleep.ipynb"}, {"id": "after", "notebook": "step.ipynb"}],
                   edges=[{"source": "nap", "target": "after", "bind": {}}])
    started = run_wf(wid, engine="airflow", wait=False)
    wait_run(api, tenant.slug, started["id"], timeout=120, until=lambda d: d["nodes"][0]["status"] == "running")
    cancelled = api.post(f"/api/tenants/{tenant.slug}/runs/{started['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled" and [n["status"] for n in cancelled["nodes"]] == ["cancelled", "cancelled"]

    client = airflow_client()
    dag_id, run_id = f"loom__{tenant.slug}__{wid}", cancelled["external_id"]
    assert client.dag_runs.get_dag_run(dag_id, run_id).state.value == "failed"
    deadline = time.monotonic() + 30
    while any(ti.state is not None and ti.state.value in ("running", "queued", "scheduled")
              for ti in client.task_instances.get_task_instances(dag_id, run_id).task_instances):
        assert time.monotonic() < deadline, "Airflow kept running the cancelled DAG run's task"
        time.sleep(0.5)
    time.sleep(2)  # the mirror leaves a cancelled run as Loom cancelled it
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{started['id']}/").json()["status"] == "cancelled"


def test_runs_airflow_starts_itself_show_up_in_loom(airflow_engine, api, tenant, nb, workflow):
    """A schedule, and a trigger from Airflow's UI (here its REST API, as the UI does)."""
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    start = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}],
                   parameters=[{"name": "x", "type": "int", "default": 5}],
                   schedule="@daily", start_date=start, catchup=False)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.post(url, {}, format="json").status_code == 202
    dag_id = f"loom__{tenant.slug}__{wid}"
    deadline = time.monotonic() + 60
    while api.get(url).json()["status"] == "deploying":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    from airflow_client import client as ac

    airflow_client().dag_runs.trigger_dag_run(dag_id, ac.TriggerDAGRunPostBody(dag_run_id="from-the-ui", conf={"x": 41}))
    runs_url = f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/"
    deadline = time.monotonic() + 120
    while True:
        runs = api.get(runs_url).json()
        if len(runs) == 2 and all(r["status"] == "success" for r in runs):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.5)
    by_id = {r["external_id"]: r for r in runs}
    assert all(r["engine"] == "airflow" and r["created_by"] is None and r["version"] == 1 for r in runs)
    manual = api.get(f"/api/tenants/{tenant.slug}/runs/{by_id['from-the-ui']['id']}/").json()
    assert manual["parameters"] == {"x": 41} and manual["nodes"][0]["outputs"] == {"y": 42}
    scheduled = next(r for key, r in by_id.items() if key != "from-the-ui")
    assert scheduled["external_id"].startswith("scheduled__")
    scheduled = api.get(f"/api/tenants/{tenant.slug}/runs/{scheduled['id']}/").json()
    assert scheduled["nodes"][0]["outputs"] == {"y": 6}
    executed = nbformat.reads(api.get(f"/api/tenants/{tenant.slug}/runs/{manual['id']}/nodes/s/notebook/").content,
                              as_version=4)
    assert any("x = 41" in c.source for c in executed.cells)
