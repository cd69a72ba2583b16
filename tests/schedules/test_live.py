"""With a real worker and a real Celery beat (`manage.py loom_scheduler`): a cron schedule fires a
run by itself, a manual run's logical date reaches its notebook, a backfill runs its dates at
most max_active_runs at once, and a run going past its duration rule alerts before it ends."""
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from runs.models import Run, Trigger
from schedules.models import Backfill
from schedules.scheduler import schedules_tick
from tests.runs.support import REPO, nodes_of, wait_run, worker_fixtures

worker, engine = worker_fixtures("schedules", LOOM_SANDBOX="off", LOOM_SCHEDULER_TICK_S="1")

DATED = ("logical_date = ''\ndata_interval_start = ''\ndata_interval_end = ''",
         "seen = [logical_date, data_interval_start, data_interval_end]")


@pytest.fixture
def beat(worker, tmp_path):
    """Celery beat with django-celery-beat's database schedule, sending ticks to the worker's queue."""
    log = open(tmp_path / "beat.log", "wb")
    process = subprocess.Popen([sys.executable, "manage.py", "loom_scheduler", "-l", "INFO"], cwd=REPO,
                               env={**worker.env, "LOOM_SCHEDULER_TICK_S": "1", "LOOM_ALERT_DURATION_CHECK_S": "1"},
                               stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    print((tmp_path / "beat.log").read_text()[-3000:])


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_cron_schedule_fires_a_real_run_that_gets_its_logical_date(engine, beat, api, tenant, nb, workflow):
    nb("dated.ipynb", *DATED)
    # Every 5 seconds (croniter's sixth field): the test need not wait for a whole minute.
    wid = workflow([{"id": "a", "notebook": "dated.ipynb", "outputs": ["seen"]}], schedule="* * * * * */5")
    response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/", {"engine": "local"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["engine"] == "local" and response.json()["status"] == "deployed"
    deadline = time.monotonic() + 60
    while not Run.objects.filter(workflow_id=wid).exists():
        assert time.monotonic() < deadline, "no scheduled run within 60 s"
        time.sleep(0.2)
    api.delete(f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/")  # no more runs after this one
    run = Run.objects.filter(workflow_id=wid).order_by("id").first()
    detail = wait_run(api, tenant.slug, run.pk)
    assert detail["status"] == "success", detail
    assert detail["trigger"] == "schedule"
    logical = iso(detail["logical_date"])
    assert logical.second % 5 == 0 and logical.microsecond == 0
    assert iso(detail["data_interval_end"]) == logical
    assert iso(detail["data_interval_start"]) == logical - timedelta(seconds=5)
    seen = nodes_of(detail)["a"]["outputs"]["seen"]
    assert [iso(s) for s in seen] == [logical, logical - timedelta(seconds=5), logical]


def test_a_manual_run_given_a_logical_date_passes_it_to_the_notebook(engine, api, tenant, nb, workflow):
    nb("dated.ipynb", *DATED)
    wid = workflow([{"id": "a", "notebook": "dated.ipynb", "outputs": ["seen"]}])
    response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/",
                        {"logical_date": "2026-03-01T00:00:00Z", "data_interval_start": "2026-02-28T00:00:00Z"},
                        format="json")
    assert response.status_code == 201, response.content
    detail = wait_run(api, tenant.slug, response.json()["id"])
    assert detail["trigger"] == "manual" and detail["status"] == "success", detail
    assert nodes_of(detail)["a"]["outputs"]["seen"] == [
        "2026-03-01T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2026-03-01T00:00:00+00:00"]
    # Without one: now.
    response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {}, format="json")
    assert abs(iso(response.json()["logical_date"]) - datetime.now(timezone.utc)) < timedelta(seconds=30)


def test_a_local_backfill_runs_its_dates_at_most_max_active_runs_at_once(engine, api, tenant, nb, workflow):
    nb("dated.ipynb", *DATED)
    wid = workflow([{"id": "a", "notebook": "dated.ipynb", "outputs": ["seen"]}], schedule="0 2 * * *")
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/backfills/"
    body = {"start": "2026-02-01T00:00:00Z", "end": "2026-02-05T23:00:00Z", "max_active_runs": 2}
    dry = api.post(url, {**body, "dry_run": True}, format="json")
    assert dry.status_code == 200, dry.content
    assert [d["logical_date"] for d in dry.json()["dates"]] == [f"2026-02-0{d}T02:00:00Z" for d in range(1, 6)]
    assert not Run.objects.filter(workflow_id=wid).exists()
    created = api.post(url, body, format="json")
    assert created.status_code == 201, created.content
    assert api.post(url, body, format="json").status_code == 409  # one backfill at a time
    backfill_url = f"{url}{created.json()['id']}/"
    most_active = 0
    deadline = time.monotonic() + 120
    while api.get(backfill_url).json()["status"] == "running":
        most_active = max(most_active, Run.objects.filter(workflow_id=wid, status__in=["queued", "running"]).count())
        schedules_tick()  # what beat's tick does
        assert time.monotonic() < deadline, api.get(backfill_url).json()
        time.sleep(0.1)
    detail = api.get(backfill_url).json()
    assert detail["status"] == "success" and detail["progress"] == {"success": 5}
    assert most_active <= 2
    runs = Run.objects.filter(workflow_id=wid).order_by("logical_date")
    assert [r.trigger for r in runs] == [Trigger.BACKFILL] * 5
    assert [r.logical_date.day for r in runs] == [1, 2, 3, 4, 5]
    # Reprocessing: none leaves every date alone; all runs them again.
    assert api.post(url, {**body, "dry_run": True}, format="json").json()["dates"] == []
    assert len(api.post(url, {**body, "dry_run": True, "reprocess": "all"}, format="json").json()["dates"]) == 5


def test_cancelling_a_backfill_stops_what_has_not_started(engine, api, tenant, nb, workflow):
    nb("slow.ipynb", "x = 1", "import time; time.sleep(3)")
    wid = workflow([{"id": "a", "notebook": "slow.ipynb"}], schedule="@daily")
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/backfills/"
    created = api.post(url, {"start": "2026-02-01T00:00:00Z", "end": "2026-02-06T00:00:00Z", "max_active_runs": 1},
                       format="json").json()
    cancelled = api.post(f"{url}{created['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["progress"].get("cancelled") == 5 and sum(cancelled["progress"].values()) == 6
    schedules_tick()
    assert Run.objects.filter(workflow_id=wid).count() == 1
    assert Backfill.objects.get(pk=created["id"]).status == "cancelled"


def test_beat_sends_again_an_alert_whose_message_was_lost(engine, beat, admin_api, tenant, nb, workflow):
    """A pending delivery overdue by minutes (its broker message lost, its worker gone) is sent by
    the beat's periodic alerts.deliveries_resend, without anyone asking."""
    from alerts.models import Channel, Delivery, DeliveryStatus
    from runs.models import Status
    from tests.alerts.support import Receiver
    from tests.alerts.test_api import finished_run

    receiver = Receiver()
    try:
        response = admin_api.post(f"/api/tenants/{tenant.slug}/channels/", {"name": "ops", "kind": "webhook",
                                                                           "url": receiver.url}, format="json")
        assert response.status_code == 201, response.content
        nb("work.ipynb", "x = 1")
        wid = workflow([{"id": "load", "notebook": "work.ipynb"}], alerts=[{"channel": "ops", "on": ["failure"]}])
        run = finished_run(wid, Status.FAILED)
        lost = Delivery.objects.create(tenant=tenant, run=run, channel=Channel.objects.get(pk=response.json()["id"]),
                                       event="failure", next_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=5))
        deadline = time.monotonic() + 120  # the beat sends it every minute
        while (Delivery.objects.get(pk=lost.pk).status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
               and time.monotonic() < deadline):
            time.sleep(0.5)
        assert Delivery.objects.get(pk=lost.pk).status == DeliveryStatus.DELIVERED
        assert receiver.json()["event"] == "failure" and receiver.json()["run"]["id"] == run.pk
    finally:
        receiver.close()


def test_a_run_going_past_its_duration_alerts_while_it_runs_and_once(engine, beat, admin_api, api, tenant, nb, workflow,
                                                                     tmp_path):
    """The beat's alerts.durations_check (every second here) sees the run past duration_s while its
    notebook still sleeps (until the test lets it go), and the worker posts the alert; the run's
    end, later, does not alert for its duration again."""
    from alerts.models import Delivery
    from tests.alerts.support import Receiver

    receiver = Receiver()
    try:
        response = admin_api.post(f"/api/tenants/{tenant.slug}/channels/", {"name": "ops", "kind": "webhook",
                                                                           "url": receiver.url}, format="json")
        assert response.status_code == 201, response.content
        go = tmp_path / "go"
        nb("slow.ipynb", "go = ''", "import os, time\nstart = time.monotonic()\n"
           "while not os.path.exists(go) and time.monotonic() - start < 600:\n    time.sleep(0.2)")
        wid = workflow([{"id": "a", "notebook": "slow.ipynb", "parameters": {"go": str(go)}}],
                       alerts=[{"channel": "ops", "on": ["duration", "failure"], "duration_s": 2}])
        started = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {}, format="json")
        assert started.status_code == 201, started.content
        receiver.wait(1, timeout=120)
        assert Run.objects.get(pk=started.json()["id"]).status == "running"  # not ended: the notebook waits for us
        body = receiver.json()
        assert body["event"] == "duration" and body["run"]["id"] == started.json()["id"]
        assert body["run"]["status"] == "running" and body["run"]["ended_at"] is None and body["duration_limit_s"] == 2
        go.touch()
        detail = wait_run(api, tenant.slug, started.json()["id"], timeout=120)
        assert detail["status"] == "success", detail
        time.sleep(3)  # room for a second alert (beat checks every second), if there were one
        assert len(receiver.requests) == 1, receiver.requests
        assert list(Delivery.objects.values_list("event", "status")) == [("duration", "delivered")]
    finally:
        receiver.close()
