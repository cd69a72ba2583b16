"""On Airflow, a running node's log comes from the task's log in Airflow while it runs (issue 15)."""
import time

import pytest

from tests.runs.support import wait_run

pytestmark = pytest.mark.airflow


def test_a_running_tasks_log_is_read_from_airflow(airflow_engine, api, tenant, nb, workflow, run_wf):
    nb("slow.ipynb", None, "print('started the slow part', flush=True)\nimport time\ntime.sleep(20)\nprint('done')")
    started = run_wf(workflow(nodes=[{"id": "slow", "notebook": "slow.ipynb"}]), engine="airflow", wait=False)
    url = f"/api/tenants/{tenant.slug}/runs/{started['id']}/nodes/slow/log/"
    deadline = time.monotonic() + 120
    while True:
        body = api.get(url).json()
        if "[cell 1 stdout] started the slow part" in body["text"]:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.5)
    assert body["status"] == "running" and "done" not in body["text"]
    finished = wait_run(api, tenant.slug, started["id"], timeout=120)
    assert finished["status"] == "success", finished
    assert "[cell 1 stdout] done" in api.get(url).json()["text"]
