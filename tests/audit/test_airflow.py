"""Deploys, undeploys, and the runs Airflow starts by itself, recorded with a real Airflow 3.3."""
import datetime
import time

import pytest

from audit.models import AuditEntry
from deployments.client import airflow_client

pytestmark = pytest.mark.airflow


def test_deploys_and_runs_airflow_starts_are_recorded_with_who_started_them(airflow_engine, api, tenant, nb, workflow):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    start = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}], schedule="@daily",
                   start_date=start, catchup=False)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.post(url, {}, format="json").status_code == 202
    dag_id = f"loom__{tenant.slug}__{wid}"
    deployed = AuditEntry.objects.get(action="deployment.deployed")
    assert (deployed.actor, deployed.tenant_slug, deployed.object_type, deployed.object_id) == (
        "eddie", tenant.slug, "workflow", str(wid))
    assert deployed.after == {"version": 1, "dag_id": dag_id, "engine": "airflow"}
    deadline = time.monotonic() + 60
    while api.get(url).json()["status"] == "deploying":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    from airflow_client import client as ac

    airflow_client().dag_runs.trigger_dag_run(dag_id, ac.TriggerDAGRunPostBody(dag_run_id="from-the-ui"))
    deadline = time.monotonic() + 120
    while AuditEntry.objects.filter(action="run.started").count() < 2:
        assert time.monotonic() < deadline, list(AuditEntry.objects.values_list("action", "actor"))
        time.sleep(0.5)
    started = {e.after["dag_run_id"]: e for e in AuditEntry.objects.filter(action="run.started")}
    assert started["from-the-ui"].actor == "airflow"
    scheduled = next(e for key, e in started.items() if key != "from-the-ui")
    assert scheduled.actor == "scheduler" and scheduled.actor_user_id is None and scheduled.tenant_id == tenant.pk

    assert api.delete(url).status_code == 204
    undeployed = AuditEntry.objects.get(action="deployment.undeployed")
    assert (undeployed.actor, undeployed.object_id, undeployed.before) == ("eddie", str(wid), {"version": 1, "dag_id": dag_id, "engine": "airflow"})
