"""A failed run alerts once, end to end: the engine finishes the run, run_finished makes the
delivery, a worker posts it to a receiver on 127.0.0.1 (retrying after a 500)."""
import hashlib
import hmac
import time

import pytest

from alerts.models import Delivery
from runs.models import NodeRun

SECRET = "s3cret-signing-key"


def _setup(admin_api, tenant, nb, workflow, hook) -> int:
    made = admin_api.post(f"/api/tenants/{tenant.slug}/channels/",
                          {"name": "ops", "kind": "webhook", "url": hook.url, "secret": SECRET}, format="json")
    assert made.status_code == 201, made.content
    nb("boom.ipynb", None, "raise RuntimeError('the feed is empty')")
    return workflow([{"id": "load", "notebook": "boom.ipynb"}], alerts=[{"channel": "ops", "on": ["failure", "success"]}])


def _check_once(hook, run: dict, wid: int) -> None:
    time.sleep(1.5)  # room for a duplicate to show up, if there were one
    assert len(hook.requests) == 2, hook.requests  # the 500, then the retry; nothing more
    body, request = hook.json(), hook.requests[-1]
    assert request["headers"]["X-Loom-Signature"] == "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert body["event"] == "failure" and body["run"]["id"] == run["id"] and body["workflow"]["id"] == wid
    # The first line of the notebook's error, as the engine stored it for the node: on Airflow the
    # mirror reads it from the task's XCom (ERROR_XCOM_KEY), not from Airflow's log of the task.
    stored = NodeRun.objects.get(run_id=run["id"], node="load", map_index=None).error["message"]
    assert stored.splitlines()[0] == "Cell 1 raised RuntimeError: the feed is empty"
    assert body["failed_nodes"] == [{"node": "load", "status": "failed", "error": stored.splitlines()[0]}]
    assert list(Delivery.objects.values_list("event", "status", "attempts")) == [("failure", "delivered", 2)]


def test_a_failed_local_run_alerts_once(engine, admin, client_for, tenant, nb, workflow, run_wf, receiver):
    hook = receiver(statuses=[500])
    wid = _setup(client_for(admin), tenant, nb, workflow, hook)
    run = run_wf(wid)
    assert run["status"] == "failed"
    hook.wait(2)
    _check_once(hook, run, wid)


@pytest.mark.airflow
def test_a_failed_airflow_run_alerts_once(airflow_engine, admin, client_for, tenant, nb, workflow, run_wf, receiver, settings):
    hook = receiver(statuses=[500])
    wid = _setup(client_for(admin), tenant, nb, workflow, hook)
    run = run_wf(wid, engine="airflow", timeout=180)
    assert run["status"] == "failed"
    hook.wait(2, timeout=90)
    _check_once(hook, run, wid)
