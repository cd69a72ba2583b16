"""Deactivating a tenant stops everything of it, with a real worker: its running run is cancelled
(the kernel killed), its backfill's unstarted dates are cancelled, each in the audit log; and
nothing of it starts again, not even for a platform admin, until it is activated."""
import os
import time

import pytest

from audit.models import AuditEntry
from runs.models import Run
from schedules.models import Backfill
from schedules.scheduler import schedules_tick
from tests.runs.support import nodes_of, wait_run, worker_fixtures

worker, engine = worker_fixtures("deactivate", LOOM_SANDBOX="off")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"  # a zombie is dead too
    except FileNotFoundError:
        return False


def test_deactivation_cancels_running_runs_and_backfills(engine, api, root_api, tenant, other_tenant, nb, workflow,
                                                         run_wf, tmp_path):
    pid_file, gate = tmp_path / "pid", tmp_path / "gate"  # the gate never opens: only a cancel ends it
    nb("waits.ipynb", "pid_file = ''\ngate = ''",
       "import os, time\nopen(pid_file, 'w').write(str(os.getpid()))\n"
       "while not os.path.exists(gate):\n    time.sleep(0.05)")
    wid = workflow([{"id": "w", "notebook": "waits.ipynb", "parameters": {"pid_file": str(pid_file), "gate": str(gate)}}],
                   schedule="@daily")
    backfills = f"/api/tenants/acme/workflows/{wid}/backfills/"
    backfill = api.post(backfills, {"start": "2026-02-01T00:00:00Z", "end": "2026-02-04T00:00:00Z", "max_active_runs": 1},
                        format="json")
    assert backfill.status_code == 201, backfill.content
    run = Run.objects.get(workflow_id=wid)  # the backfill's first date, started at once
    wait_run(api, "acme", run.pk, until=lambda d: nodes_of(d)["w"]["status"] == "running" and pid_file.exists())
    kernel = int(pid_file.read_text())

    answer = root_api.patch("/api/platform/tenants/acme/", {"is_active": False}, format="json")
    assert answer.status_code == 200 and answer.json()["is_active"] is False, answer.content

    run.refresh_from_db()
    assert run.status == "cancelled" and run.error == "Cancelled."
    deadline = time.monotonic() + 10
    while _alive(kernel):
        assert time.monotonic() < deadline, "the kernel of the cancelled run survived the deactivation"
        time.sleep(0.1)
    detail = root_api.get(f"{backfills}{backfill.json()['id']}/").json()
    assert detail["status"] == "cancelled" and detail["progress"] == {"cancelled": 4}, detail
    schedules_tick()  # what beat's tick does: nothing of the backfill starts
    assert Run.objects.filter(workflow_id=wid).count() == 1
    assert Backfill.objects.get(pk=backfill.json()["id"]).status == "cancelled"

    entries = {(e.action, e.object_type, e.object_id, e.actor) for e in AuditEntry.objects.filter(tenant=tenant)}
    assert {("tenant.changed", "tenant", str(tenant.pk), "root"), ("run.cancelled", "run", str(run.pk), "root"),
            ("backfill.cancelled", "backfill", str(backfill.json()["id"]), "root")} <= entries, entries
    cancelled = AuditEntry.objects.get(action="backfill.cancelled")
    assert cancelled.after == {"status": "cancelled", "dates_cancelled": 3}

    # Nothing starts again: the platform admin, who may still open the tenant, gets 409 saying why.
    for url, body in ((f"/api/tenants/acme/workflows/{wid}/runs/", {}),
                      (backfills, {"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}),
                      (f"/api/tenants/acme/runs/{run.pk}/repair/", {})):
        refused = root_api.post(url, body, format="json")
        assert refused.status_code == 409, (url, refused.content)
        assert refused.json()["detail"] == ("The tenant 'acme' is deactivated: nothing of it runs until a platform "
                                            "admin activates it again."), refused.content
        assert api.post(url, body, format="json").status_code == 403  # its members cannot open it at all
    assert Run.objects.filter(workflow_id=wid).count() == 1 and Backfill.objects.count() == 1

    # Activated again, it runs (the gate is open now, so the run ends).
    gate.write_text("open")
    assert root_api.patch("/api/platform/tenants/acme/", {"is_active": True}, format="json").status_code == 200
    assert run_wf(wid, {})["status"] == "success"


def test_deactivating_another_tenant_leaves_this_ones_runs_alone(engine, api, root_api, tenant, other_tenant, nb, workflow,
                                                                run_wf, tmp_path):
    gate = tmp_path / "gate"
    nb("gated.ipynb", "gate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)")
    wid = workflow([{"id": "g", "notebook": "gated.ipynb", "parameters": {"gate": str(gate)}}])
    run = run_wf(wid, wait=False)
    assert root_api.patch(f"/api/platform/tenants/{other_tenant.slug}/", {"is_active": False}, format="json").status_code == 200
    assert Run.objects.get(pk=run["id"]).status in ("queued", "running")
    gate.write_text("open")
    assert wait_run(api, "acme", run["id"])["status"] == "success"
    assert os.path.exists(gate)


@pytest.mark.airflow
def test_deactivation_cancels_an_airflow_run_in_airflow(airflow_engine, api, root_api, tenant, nb, workflow, run_wf):
    """The cancel service tells Airflow: the DAG run of the deactivated tenant's run is failed there."""
    from deployments.client import airflow_client

    nb("sleep.ipynb", "seconds: int = 120", "import time\ntime.sleep(seconds)")
    wid = workflow(nodes=[{"id": "nap", "notebook": "sleep.ipynb"}])
    started = run_wf(wid, engine="airflow", wait=False)
    wait_run(api, tenant.slug, started["id"], timeout=120, until=lambda d: d["nodes"][0]["status"] == "running")
    assert root_api.patch("/api/platform/tenants/acme/", {"is_active": False}, format="json").status_code == 200
    run = Run.objects.get(pk=started["id"])
    assert run.status == "cancelled"
    assert airflow_client().dag_runs.get_dag_run(f"loom__acme__{wid}", run.external_id).state.value == "failed"
