"""Loom's scheduler on the local engine, with a controllable clock: `schedules_tick(now=...)`
is what Celery beat's tick runs. No worker here: started runs stay queued (active) until the
test finishes them, which is what max_active_runs counts."""
import threading
from datetime import datetime, timezone

import pytest
from django.conf import settings
from django.db import connection

from deployments.models import Deployment
from runs.engines.airflow.lease import lease_take
from runs.models import Run, Status, Trigger
from schedules.scheduler import LEASE, deployment_tick, schedules_tick

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="a race of two schedulers on PostgreSQL: runs in make test's second pass (DATABASE_URL set)")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def deployed(api, tenant, nb, workflow):
    """deployed(schedule=..., catchup=..., max_active_runs=...) -> workflow id, deployed locally."""
    nb("dated.ipynb", "logical_date = ''", "x = 1")

    def make(schedule="@hourly", catchup=True, max_active_runs=2, start_date="2026-01-01"):
        wid = workflow([{"id": "a", "notebook": "dated.ipynb"}], schedule=schedule, catchup=catchup,
                       start_date=start_date)
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/",
                            {"engine": "local", "max_active_runs": max_active_runs}, format="json")
        assert response.status_code == 202, response.content
        return wid

    return make


def dates(wid) -> list[datetime]:
    return list(Run.objects.filter(workflow_id=wid, trigger=Trigger.SCHEDULE).order_by("logical_date")
                .values_list("logical_date", flat=True))


def finish(wid, status=Status.SUCCESS) -> None:
    Run.objects.filter(workflow_id=wid, status__in=[Status.QUEUED, Status.RUNNING]).update(status=status)


def test_ticks_start_due_runs_within_max_active_runs_and_catch_up(db, deployed):
    wid = deployed(catchup=True, max_active_runs=2)
    started = schedules_tick(now=at(2026, 1, 1, 4, 30))
    assert [r.logical_date for r in started] == [at(2026, 1, 1, 0), at(2026, 1, 1, 1)]
    run = Run.objects.get(pk=started[1].pk)
    assert (run.trigger, run.engine, run.data_interval_start, run.data_interval_end) == (
        Trigger.SCHEDULE, "local", at(2026, 1, 1, 0), at(2026, 1, 1, 1))
    assert schedules_tick(now=at(2026, 1, 1, 4, 31)) == []  # two active: no room
    finish(wid)
    schedules_tick(now=at(2026, 1, 1, 4, 32))
    finish(wid)
    schedules_tick(now=at(2026, 1, 1, 4, 33))
    assert dates(wid) == [at(2026, 1, 1, h) for h in range(5)]
    finish(wid)
    assert schedules_tick(now=at(2026, 1, 1, 4, 59)) == []  # nothing new is due
    # The scheduler was down from 05:00 to 07:10: with catchup it runs 05:00, 06:00 and 07:00.
    schedules_tick(now=at(2026, 1, 1, 7, 10))
    finish(wid)
    schedules_tick(now=at(2026, 1, 1, 7, 11))
    assert dates(wid)[5:] == [at(2026, 1, 1, h) for h in (5, 6, 7)]


def test_without_catchup_a_scheduler_that_was_down_runs_only_the_newest_date(db, deployed):
    wid = deployed(catchup=False)
    assert [r.logical_date for r in schedules_tick(now=at(2026, 1, 1, 0, 45))] == [at(2026, 1, 1, 0)]
    assert schedules_tick(now=at(2026, 1, 1, 0, 50)) == []
    finish(wid)
    schedules_tick(now=at(2026, 1, 1, 9, 5))  # down from 01:00 to 09:05
    assert dates(wid) == [at(2026, 1, 1, 0), at(2026, 1, 1, 9)]


def test_a_paused_deployment_starts_nothing_until_resumed(db, api, tenant, deployed):
    wid = deployed(catchup=False)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.patch(url, {"paused": True}, format="json").json()["paused"] is True
    assert schedules_tick(now=at(2026, 1, 1, 3, 5)) == []
    assert api.get(url).json()["next_runs"] == []
    assert api.patch(url, {"paused": False}, format="json").json()["paused"] is False
    assert [r.logical_date for r in schedules_tick(now=at(2026, 1, 1, 3, 6))] == [at(2026, 1, 1, 3)]


def test_a_workflow_not_deployed_answers_null_and_an_undeployed_one_too(db, api, tenant, deployed, workflow):
    url = f"/api/tenants/{tenant.slug}/workflows/{{}}/deployment/"
    never = workflow([{"id": "a", "notebook": "dated.ipynb"}], schedule="@daily")
    response = api.get(url.format(never))
    assert (response.status_code, response.json()) == (200, None)
    wid = deployed(schedule="@daily")
    assert api.get(url.format(wid)).json()["schedule"] == "@daily"
    assert api.delete(url.format(wid)).status_code == 204
    assert api.get(url.format(wid)).json() is None
    assert api.get(url.format(999_999)).status_code == 404


def test_a_deactivated_tenants_schedules_stand_still_until_it_is_active_again(db, api, tenant, deployed):
    from tenancy.services import tenant_activate

    wid = deployed(catchup=False)
    tenant_activate(tenant=tenant, active=False)
    assert schedules_tick(now=at(2026, 1, 1, 3, 5)) == []
    assert Deployment.objects.select_related("tenant").get(workflow_id=wid).schedule_paused
    tenant_activate(tenant=tenant, active=True)
    assert [r.logical_date for r in schedules_tick(now=at(2026, 1, 1, 3, 6))] == [at(2026, 1, 1, 3)]


def test_only_the_holder_of_the_lease_acts(db, deployed):
    deployed(catchup=True)
    assert lease_take(LEASE, holder="another-scheduler", ttl=__import__("datetime").timedelta(seconds=60))
    assert schedules_tick(now=at(2026, 1, 1, 2, 30)) is None
    assert not Run.objects.exists()


def test_a_second_run_for_one_logical_date_is_never_written(db, deployed):
    wid = deployed(catchup=True, max_active_runs=5)
    deployment = Deployment.objects.select_related("version", "workflow").get(workflow_id=wid)
    deployment_tick(deployment, now=at(2026, 1, 1, 1, 30))
    Run.objects.filter(workflow_id=wid, logical_date=at(2026, 1, 1, 1)).delete()
    # A scheduler that missed the newest run (a stale read) tries 00:00 again: the constraint refuses it.
    from schedules import scheduler

    original = scheduler.timetable.due_slots
    scheduler.timetable.due_slots = lambda *a, **k: original(*a, **{**k, "last": None})
    try:
        deployment_tick(deployment, now=at(2026, 1, 1, 1, 30))
    finally:
        scheduler.timetable.due_slots = original
    assert dates(wid) == [at(2026, 1, 1, 0), at(2026, 1, 1, 1)]


@on_postgres
def test_two_schedulers_racing_on_postgresql_start_each_date_once(transactional_db, deployed):
    wid = deployed(catchup=True, max_active_runs=50)
    barrier, errors = threading.Barrier(4), []

    def scheduler(use_lease: bool):
        try:
            barrier.wait()
            for minute in range(3):
                now = at(2026, 1, 1, 12, minute)
                if use_lease:
                    schedules_tick(now=now)
                else:  # no lease at all: only the unique constraint stands between them
                    deployment_tick(Deployment.objects.select_related("version", "workflow").get(workflow_id=wid), now=now)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler, args=(i < 2,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert dates(wid) == [at(2026, 1, 1, h) for h in range(13)]
