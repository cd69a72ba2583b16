"""On Airflow, a running node's log comes from the task's log in Airflow while it runs (issue 15)."""
import time

import pytest

from tests.runs.support import wait_run

pytestmark = pytest.mark.airflow


def test_a_running_tasks_log_is_read_from_airflow(airflow_engine, api, tenant, nb, workflow, run_wf, tmp_path):
    # The task waits for the gate (Airflow's tasks run unsandboxed here): it is still running,
    # however loaded the machine, until the test has seen its log.
    gate = tmp_path / "gate"
    nb("slow.ipynb", "gate = ''", "print('started the slow part', flush=True)\nimport os, time\n"
       "deadline = time.monotonic() + 300\nwhile not os.path.exists(gate) and time.monotonic() < deadline:\n"
       "    time.sleep(0.2)\nprint('done')")
    wid = workflow(nodes=[{"id": "slow", "notebook": "slow.ipynb", "parameters": {"gate": str(gate)}}])
    started = run_wf(wid, engine="airflow", wait=False)
    url = f"/api/tenants/{tenant.slug}/runs/{started['id']}/nodes/slow/log/"
    deadline = time.monotonic() + 180
    while True:
        body = api.get(url).json()
        # The text comes from Airflow's task log, the status from the mirror's last poll: both,
        # while the task waits at its gate.
        if "stdout] started the slow part" in body["text"] and body["status"] == "running":
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.5)
    assert body["status"] == "running" and "done" not in body["text"]
    gate.touch()
    finished = wait_run(api, tenant.slug, started["id"], timeout=180)
    assert finished["status"] == "success", finished
    assert "stdout] done" in api.get(url).json()["text"]
