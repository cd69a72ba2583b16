"""Schedules on the real Airflow 3.3: pausing a deployment pauses the DAG, and a backfill goes
through Airflow's own backfill API, its DAG runs mirrored back as Loom runs (trigger backfill)
whose notebooks got the logical date from the task's context."""
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from deployments.client import airflow_client
from runs.models import Run, Trigger
from schedules.backfills import backfills_advance
from tenancy.services import tenant_activate
from tests.runs.support import nodes_of, wait_run

pytestmark = pytest.mark.airflow


def _wait_paused(dag_id: str, paused: bool) -> None:
    deadline = time.monotonic() + 30
    while airflow_client().dags.get_dag(dag_id).is_paused is not paused:
        assert time.monotonic() < deadline, f"{dag_id} is_paused is not {paused}"
        time.sleep(0.2)


def test_a_backfill_on_airflow_runs_its_dates_and_mirrors_them_back(airflow_engine, api, tenant, nb, workflow):
    nb("dated.ipynb", "logical_date = ''", "seen = logical_date")
    start = (date.today() - timedelta(days=7)).isoformat()
    wid = workflow([{"id": "a", "notebook": "dated.ipynb", "outputs": ["seen"]}], schedule="@daily", start_date=start,
                   catchup=False)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.post(url, {"engine": "airflow"}, format="json").status_code == 202
    deadline = time.monotonic() + 90
    while api.get(url).json()["status"] == "deploying":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    deployment = api.get(url).json()
    assert deployment["status"] == "deployed" and deployment["engine"] == "airflow"
    assert deployment["schedule_text"] == "At 00:00 (UTC)" and len(deployment["next_runs"]) == 5

    # Pausing pauses the DAG in Airflow, resuming unpauses it.
    assert api.patch(url, {"paused": True}, format="json").json()["paused"] is True
    assert airflow_client().dags.get_dag(deployment["dag_id"]).is_paused is True
    assert api.patch(url, {"paused": False}, format="json").status_code == 200
    assert airflow_client().dags.get_dag(deployment["dag_id"]).is_paused is False

    # A deactivated tenant's DAGs stand still (the tenant sync pauses them), and go on when it is active again.
    tenant_activate(tenant=tenant, active=False)
    _wait_paused(deployment["dag_id"], True)
    tenant_activate(tenant=tenant, active=True)
    _wait_paused(deployment["dag_id"], False)

    today = datetime.combine(date.today(), datetime.min.time(), tzinfo=timezone.utc)
    days = [today - timedelta(days=d) for d in (4, 3, 2)]
    body = {"start": days[0].isoformat(), "end": days[-1].isoformat(), "engine": "airflow", "max_active_runs": 2}
    backfills = f"/api/tenants/{tenant.slug}/workflows/{wid}/backfills/"
    dry = api.post(backfills, {**body, "dry_run": True}, format="json").json()
    assert [datetime.fromisoformat(d["logical_date"].replace("Z", "+00:00")) for d in dry["dates"]] == days
    created = api.post(backfills, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["external_id"]
    detail_url = f"{backfills}{created.json()['id']}/"
    deadline = time.monotonic() + 240
    while api.get(detail_url).json()["status"] == "running":
        backfills_advance()  # what the scheduler's tick does
        assert time.monotonic() < deadline, api.get(detail_url).json()
        time.sleep(0.5)
    detail = api.get(detail_url).json()
    assert detail["status"] == "success" and detail["progress"] == {"success": 3}, detail
    runs = Run.objects.filter(workflow_id=wid, trigger=Trigger.BACKFILL).order_by("logical_date")
    assert [r.logical_date for r in runs] == days
    for run in runs:
        shown = wait_run(api, tenant.slug, run.pk)
        assert shown["engine"] == "airflow" and shown["trigger"] == "backfill"
        seen = datetime.fromisoformat(nodes_of(shown)["a"]["outputs"]["seen"])
        assert seen == run.logical_date
