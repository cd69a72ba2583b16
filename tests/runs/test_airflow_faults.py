"""Airflow faults, injected for real: a submission lost (its message purged from the broker), an
unexpected error before the DAG run exists, Airflow unreachable mid-run. (That no Airflow call
is made inside a database transaction, the `airflow_engine` fixture checks in every Airflow test:
here the submit and the mirror run in this process.)"""
import time

import pytest

from runs.engines.airflow.mirror import airflow_runs_sync
from runs.engines.airflow.submit import SUBMIT_LEASE, airflow_run_submit
from runs.models import Lease, Run
from tests.airflow_support import free_port
from tests.runs.support import purge_messages, wait_run

pytestmark = pytest.mark.airflow


def _step(nb, workflow) -> int:
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    return workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}])


def test_a_lost_submission_is_sent_again_and_a_second_loss_fails_the_run(airflow_engine, stopped_worker, api, tenant,
                                                                         nb, workflow, run_wf, settings):
    wid = _step(nb, workflow)
    settings.LOOM_AIRFLOW_SUBMIT_TIMEOUT_S = 0.5

    # Lost twice: the broker loses the submit message, then the one the mirror sends again.
    twice = run_wf(wid, engine="airflow", wait=False)
    assert purge_messages() == 1
    time.sleep(0.6)  # past the submission's deadline
    airflow_runs_sync()
    assert Run.objects.get(pk=twice["id"]).status == "queued"
    assert purge_messages() == 1  # sent once more, and lost again
    time.sleep(0.6)
    airflow_runs_sync()
    assert purge_messages() == 0
    detail = api.get(f"/api/tenants/{tenant.slug}/runs/{twice['id']}/").json()
    assert detail["status"] == "failed" and detail["external_id"] == ""
    assert detail["error"].startswith("Loom lost this run's submission to Airflow: no DAG run was triggered within 0.5 s")
    assert not Lease.objects.filter(name__startswith=SUBMIT_LEASE).exists()

    # Lost once: the worker's mirror sends it again (its deadline passed while no worker ran), and it runs.
    once = run_wf(wid, engine="airflow", wait=False)
    assert purge_messages() == 1
    stopped_worker.start()
    detail = wait_run(api, tenant.slug, once["id"], timeout=180)
    assert detail["status"] == "success" and detail["nodes"][0]["outputs"] == {"y": 2}, detail

    # The run that failed is repaired: submitted again, and it runs.
    assert api.post(f"/api/tenants/{tenant.slug}/runs/{twice['id']}/repair/").status_code == 200
    detail = wait_run(api, tenant.slug, twice["id"], timeout=180)
    assert detail["status"] == "success" and detail["error"] == "", detail


def test_an_unexpected_error_before_the_dag_run_exists_fails_the_run(airflow_engine, stopped_worker, api, tenant, nb,
                                                                     workflow, run_wf, settings, tmp_path):
    wid = _step(nb, workflow)
    run = run_wf(wid, engine="airflow", wait=False)
    assert purge_messages() == 1
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the DAG folder should be")
    settings.LOOM_AIRFLOW_DAGS_DIR = str(blocked)
    airflow_run_submit(run_id=run["id"])  # the submit task's body, here, where the DAG folder is broken
    detail = api.get(f"/api/tenants/{tenant.slug}/runs/{run['id']}/").json()
    assert detail["status"] == "failed", detail
    assert detail["error"].startswith("Loom could not submit the run to Airflow: NotADirectoryError:"), detail["error"]
    assert [n["status"] for n in detail["nodes"]] == ["upstream_failed"]
    assert not Lease.objects.filter(name__startswith=SUBMIT_LEASE).exists()


def test_airflow_unreachable_mid_run_says_so_and_mirroring_resumes(airflow_engine, loom_airflow, api, tenant, nb,
                                                                   workflow, run_wf, settings):
    nb("nap.ipynb", "seconds: float = 4", "import time\ntime.sleep(seconds)\ndone = True")
    wid = workflow(nodes=[{"id": "nap", "notebook": "nap.ipynb", "outputs": ["done"]}])
    run = run_wf(wid, engine="airflow", wait=False)
    url = f"/api/tenants/{tenant.slug}/runs/{run['id']}/"
    wait_run(api, tenant.slug, run["id"], timeout=120, until=lambda d: d["nodes"][0]["status"] == "running")

    _, worker = loom_airflow
    worker.stop()  # the mirror is this process's now, and its Airflow is gone
    real_url = settings.LOOM_AIRFLOW_URL
    settings.LOOM_AIRFLOW_URL = f"http://127.0.0.1:{free_port()}"
    airflow_runs_sync()
    detail = api.get(url).json()
    assert detail["status"] == "running", detail
    assert detail["error"].startswith("Airflow unreachable since "), detail["error"]
    assert "is unreachable: Failed to establish a new connection" in detail["error"]
    since = detail["error"]
    airflow_runs_sync()  # still away: the note keeps the time it first failed
    assert api.get(url).json()["error"] == since

    settings.LOOM_AIRFLOW_URL = real_url
    airflow_runs_sync()  # Airflow answers again: the note goes
    assert not api.get(url).json()["error"].startswith("Airflow unreachable")
    worker.start()
    detail = wait_run(api, tenant.slug, run["id"], timeout=120)
    assert detail["status"] == "success" and detail["error"] == "", detail
    assert detail["nodes"][0]["outputs"] == {"done": True}
    assert Run.objects.get(pk=run["id"]).ended_at is not None


def test_a_cancel_while_airflow_is_unreachable_reaches_airflow_later(airflow_engine, api, tenant, nb, workflow, run_wf,
                                                                     settings):
    nb("nap.ipynb", "seconds: float = 120", "import time\ntime.sleep(seconds)")
    wid = workflow(nodes=[{"id": "nap", "notebook": "nap.ipynb"}])
    run = run_wf(wid, engine="airflow", wait=False)
    wait_run(api, tenant.slug, run["id"], timeout=120, until=lambda d: d["nodes"][0]["status"] == "running")

    real_url = settings.LOOM_AIRFLOW_URL
    settings.LOOM_AIRFLOW_URL = f"http://127.0.0.1:{free_port()}"  # this process cannot reach Airflow; the worker can
    response = api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled", response.content
    settings.LOOM_AIRFLOW_URL = real_url

    # The worker's task tells Airflow: the DAG run fails there, which stops its task.
    from deployments.client import airflow_client

    external_id = Run.objects.get(pk=run["id"]).external_id
    deadline = time.monotonic() + 60
    while airflow_client().dag_runs.get_dag_run(f"loom__{tenant.slug}__{wid}", external_id).state.value != "failed":
        assert time.monotonic() < deadline, "the cancel never reached Airflow"
        time.sleep(0.5)
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{run['id']}/").json()["status"] == "cancelled"
