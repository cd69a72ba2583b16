"""What the mirror asks Airflow (issue 16), on a real Airflow 3.3: a successful task's outputs and
warnings come from the result its task wrote to the shared artifacts folder, not from Airflow;
its log is read from Airflow the first time someone asks for it. The mirror runs in this process
(the module's worker stopped), so its requests are counted as bench/airflow_fanout.py counts them."""
import json
import re
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from airflow_client import client as ac

from dags.airflow_tasks import RESULT_FILE
from deployments.client import airflow_client
from runs.engines.airflow.mirror import airflow_runs_sync
from runs.engines.airflow.submit import airflow_run_submit, dag_run_fail
from runs.models import NodeRun, Run
from runtime.sandbox import UNSANDBOXED_WARNING
from tests.airflow_support import free_port
from tests.runs.support import nodes_of, purge_messages, wait_run

pytestmark = pytest.mark.airflow
# A task instance's log or XCom entry, in the URL of a request: (task, what, map index).
ASKED = re.compile(r"/taskInstances/([^/]+)/(logs|xcomEntries)/[^?]*\?(?:.*&)?map_index=(-?\d+)")


@contextmanager
def requests_made(monkeypatch):
    """The URLs of the Airflow requests this process makes inside the block."""
    urls, call = [], ac.ApiClient.call_api

    def counted(self, method, url, *args, **kwargs):
        urls.append(url)
        return call(self, method, url, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(ac.ApiClient, "call_api", counted)
        yield urls


def test_successful_items_come_from_the_artifacts_folder_and_their_log_from_airflow_when_asked(
        airflow_engine, stopped_worker, api, tenant, nb, workflow, settings, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("not the task's to write")
    # Each notebook plants a result of its own where its task writes one (item b: a symlink).
    nb("item.ipynb", "item = ''\nelsewhere = ''", (
        f"import json, os\nif item == 'b':\n    os.symlink(elsewhere, {RESULT_FILE!r})\nelse:\n"
        f"    json.dump({{'outputs': {{'out': 'forged'}}, 'warnings': ['made up']}}, open({RESULT_FILE!r}, 'w'))\n"
        "print(f'scoring {item}', flush=True)\nout = item.upper()"))
    wid = workflow(parameters=[{"name": "items", "type": "list", "default": ["a", "b", "c"]}],
                   nodes=[{"id": "each", "notebook": "item.ipynb", "map_over": "items", "map_parameter": "item",
                           "parameters": {"elsewhere": str(elsewhere)}, "outputs": ["out"]}])
    started = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {"engine": "airflow"}, format="json")
    assert started.status_code == 201, started.content
    assert purge_messages() == 1  # the submit task's message: this process submits it
    airflow_run_submit(run_id=started.json()["id"])
    run = Run.objects.get(pk=started.json()["id"])
    dag = f"loom__{tenant.slug}__{wid}"
    deadline = time.monotonic() + 180
    while (state := airflow_client().dag_runs.get_dag_run(dag, run.external_id).state.value) not in ("success", "failed"):
        assert time.monotonic() < deadline, "Airflow did not finish the DAG run"
        time.sleep(1)
    assert state == "success"

    # The tasks' results, over what their notebooks planted (the symlink replaced, not followed).
    folder = Path(settings.LOOM_AIRFLOW_ARTIFACTS_DIR) / tenant.slug / dag / run.external_id / "each"
    assert json.loads((folder / "0" / RESULT_FILE).read_text()) == {"outputs": {"out": "A"},
                                                                    "warnings": [UNSANDBOXED_WARNING]}
    assert not (folder / "1" / RESULT_FILE).is_symlink() and elsewhere.read_text() == "not the task's to write"
    # Item 1 without a result, as when Loom does not share Airflow's artifacts folder; item 2's malformed.
    (folder / "1" / RESULT_FILE).unlink()
    (folder / "2" / RESULT_FILE).write_text(json.dumps({"outputs": "not a dict", "warnings": []}))

    with requests_made(monkeypatch) as urls:
        airflow_runs_sync()
    detail = wait_run(api, tenant.slug, run.pk, timeout=5)  # that poll saw the DAG run end
    nodes = nodes_of(detail)
    assert detail["status"] == "success", detail
    assert [nodes["each", i]["outputs"] for i in range(3)] == [{"out": "A"}, {"out": "B"}, {"out": "C"}]
    assert [nodes["each", i]["warnings"] for i in range(3)] == [[UNSANDBOXED_WARNING]] * 3
    assert nodes["each"]["outputs"] == {"out": ["A", "B", "C"], "map_items": ["a", "b", "c"]}
    # Airflow was asked for the log and the outputs of the items without a readable result only (and
    # once for the node's list of items).
    asked = sorted(ASKED.search(url).groups() for url in urls if ASKED.search(url))
    assert asked == [("each", "logs", "1"), ("each", "logs", "2"), ("each", "xcomEntries", "1"),
                     ("each", "xcomEntries", "2"), ("each-items", "xcomEntries", "-1")], urls
    logs = dict(NodeRun.objects.filter(run=run, node="each", map_index__isnull=False).values_list("map_index", "log"))
    assert logs[0] == "" and "stdout] scoring b" in logs[1] and "stdout] scoring c" in logs[2]
    item = api.get(f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/each/notebook/?map_index=0")
    assert item.status_code == 200 and "scoring a" in item.content.decode()

    # Item 0's log: while Airflow cannot be reached, the endpoint says so; then it reads it from
    # Airflow once (the task instance and its log) and serves it from Loom's row after that.
    url = f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/each/log/?map_index=0"
    real_url = settings.LOOM_AIRFLOW_URL
    settings.LOOM_AIRFLOW_URL = f"http://127.0.0.1:{free_port()}"
    away = api.get(url)
    assert away.status_code == 503, away.content
    assert away.json()["detail"].startswith("The log of each[0] is still in Airflow, which Loom cannot reach now")
    settings.LOOM_AIRFLOW_URL = real_url
    with requests_made(monkeypatch) as urls:
        first = api.get(url)
    assert first.status_code == 200 and "stdout] scoring a" in first.json()["text"], first.content
    assert len(urls) == 2, urls
    assert NodeRun.objects.get(run=run, node="each", map_index=0).log == first.json()["text"]
    with requests_made(monkeypatch) as urls:
        again = api.get(url)
    assert again.json() == first.json() and urls == []


def test_items_a_failed_dag_run_never_started_cost_no_request(
        airflow_engine, stopped_worker, api, tenant, nb, workflow, monkeypatch, tmp_path):
    """A DAG run failed in Airflow while most of its fanned-out items wait: the mirror asks Airflow
    for the log (and error) of the items that ran, not of those that never started, which fail or
    are skipped with a message saying so."""
    gate = tmp_path / "gate"
    nb("wait.ipynb", "item = 0\ngate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.2)\nout = item")
    wid = workflow(parameters=[{"name": "items", "type": "list", "default": list(range(6))}],
                   nodes=[{"id": "each", "notebook": "wait.ipynb", "map_over": "items", "map_parameter": "item",
                           "max_active": 1, "parameters": {"gate": str(gate)}, "outputs": ["out"]}])
    started = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {"engine": "airflow"}, format="json")
    assert started.status_code == 201, started.content
    assert purge_messages() == 1
    airflow_run_submit(run_id=started.json()["id"])
    run = Run.objects.get(pk=started.json()["id"])
    dag, api_client = f"loom__{tenant.slug}__{wid}", airflow_client()
    deadline = time.monotonic() + 180
    while not api_client.task_instances.get_mapped_task_instances(dag, run.external_id, "each", state=["running"]).total_entries:
        assert time.monotonic() < deadline, "Airflow did not start the first item"
        time.sleep(0.5)
    airflow_runs_sync()  # the run as it waits
    dag_run_fail(run)  # as from Airflow's UI: the running item fails, the waiting ones never start
    with requests_made(monkeypatch) as urls:
        airflow_runs_sync()
    detail = wait_run(api, tenant.slug, run.pk, timeout=5)
    items = [nodes_of(detail)["each", i] for i in range(6)]
    tis = api_client.task_instances.get_mapped_task_instances(dag, run.external_id, "each").task_instances
    ran = sorted(ti.map_index for ti in tis if ti.hostname)  # a worker took it (Airflow stamps the others' start too)
    assert detail["status"] == "failed" and len(ran) == 1, [(ti.map_index, ti.hostname) for ti in tis]
    asked = {ASKED.search(url).group(3) for url in urls if ASKED.search(url) and ASKED.search(url).group(1) == "each"}
    assert asked == {str(ran[0])}, urls
    waited = [item for i, item in enumerate(items) if i not in ran]
    assert {item["status"] for item in waited} <= {"failed", "skipped"}
    assert all(item["error"] is None or "before it started" in item["error"]["message"] for item in waited)
