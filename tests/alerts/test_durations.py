"""Duration alerts of runs still going (alerts.services.duration_deliveries_create, which Celery
beat calls every LOOM_ALERT_DURATION_CHECK_S), with a controllable clock: `now` is given. The
live version, with a real worker and beat, is tests/schedules/test_live.py."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import Channel, Delivery
from alerts.services import deliveries_create, delivery_attempt, duration_deliveries_create
from runs.models import NodeRun, Run, Status
from tests.alerts.test_api import finished_run
from workflows.models import WorkflowVersion

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def hook(admin_api, tenant, receiver):
    made = receiver()
    response = admin_api.post(f"/api/tenants/{tenant.slug}/channels/", {"name": "ops", "kind": "webhook", "url": made.url},
                              format="json")
    assert response.status_code == 201, response.content
    return made


@pytest.fixture
def alerted(nb, workflow):
    """A workflow whose rules are `alerts`; returns its id."""
    def make(alerts: list[dict]) -> int:
        nb("work.ipynb", None, "x = 1")
        return workflow([{"id": "load", "notebook": "work.ipynb"}], alerts=alerts)

    return make


def going(workflow_id: int, *, started_at=T0, status: str = Status.RUNNING, engine: str = "local") -> Run:
    """A run as an engine leaves it while it works: not ended (started_at None: still queued)."""
    version = WorkflowVersion.objects.filter(workflow_id=workflow_id).order_by("-number").first()
    run = Run.objects.create(tenant=version.workflow.tenant, workflow_id=workflow_id, version=version, status=status,
                             engine=engine, started_at=started_at)
    NodeRun.objects.create(run=run, node="load", status=status)
    return run


def made(deliveries) -> list[tuple]:
    return sorted((d.run_id, d.channel.name, d.event) for d in deliveries)


@pytest.mark.django_db(transaction=True)
def test_a_run_going_past_its_duration_alerts_once_and_not_again_when_it_ends(hook, alerted):
    wid = alerted([{"channel": "ops", "on": ["failure", "duration"], "duration_s": 60}])
    run = going(wid)
    assert duration_deliveries_create(now=T0 + timedelta(seconds=59)) == []
    [delivery] = duration_deliveries_create(now=T0 + timedelta(seconds=61))
    assert (delivery.run_id, delivery.event, delivery.run_ended_at) == (run.pk, "duration", None)
    assert duration_deliveries_create(now=T0 + timedelta(seconds=120)) == []  # once per run

    delivery_attempt(delivery_id=delivery.pk)  # the message says it is still running
    body = hook.json()
    assert body["event"] == "duration" and body["run"]["status"] == "running" and body["run"]["ended_at"] is None
    assert body["duration_limit_s"] == 60 and body["run"]["duration_s"] > 60
    assert "still running" in body["text"] and "running for" in body["text"]
    assert Delivery.objects.get().status == "delivered"

    # It ends, failed and long: the failure alerts; the duration does not a second time.
    Run.objects.filter(pk=run.pk).update(status=Status.FAILED, ended_at=T0 + timedelta(seconds=300))
    NodeRun.objects.filter(run=run).update(status=Status.FAILED, error={"message": "ValueError: late"})
    run.refresh_from_db()
    assert made(deliveries_create(run=run)) == [(run.pk, "ops", "failure")]
    assert duration_deliveries_create(now=T0 + timedelta(seconds=400)) == []  # ended: no longer checked
    assert sorted(Delivery.objects.values_list("event", flat=True)) == ["duration", "failure"]


@pytest.mark.django_db(transaction=True)
def test_a_run_that_ended_too_late_unseen_alerts_at_its_end_and_the_check_leaves_it(hook, alerted):
    wid = alerted([{"channel": "ops", "on": ["duration"], "duration_s": 60}])
    run = finished_run(wid, Status.SUCCESS, seconds=120)
    assert made(deliveries_create(run=run)) == [(run.pk, "ops", "duration")]
    assert duration_deliveries_create(now=timezone.now() + timedelta(hours=1)) == []
    # However it races, a second duration delivery of the run to the channel cannot be made.
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(tenant_id=run.tenant_id, run=run, channel=Channel.objects.get(), event="duration")


@pytest.mark.django_db(transaction=True)
def test_each_run_is_held_to_its_own_versions_rules_on_either_engine(hook, alerted, admin_api, tenant):
    response = admin_api.post(f"/api/tenants/{tenant.slug}/channels/", {"name": "team", "kind": "webhook",
                                                                       "url": hook.url}, format="json")
    assert response.status_code == 201, response.content
    short = alerted([{"channel": "ops", "on": ["duration"], "duration_s": 60},
                     {"channel": "team", "on": ["duration"], "duration_s": 90}])
    long_ = alerted([{"channel": "ops", "on": ["duration"], "duration_s": 600}])
    quiet = alerted([{"channel": "ops", "on": ["failure"]}])
    mirrored = going(short, engine="airflow")  # a run mirrored from Airflow is held to them as well
    queued = going(short, started_at=None, status=Status.QUEUED)  # counted from its creation, as at its end
    Run.objects.filter(pk=queued.pk).update(created_at=T0)
    patient = going(long_)
    going(quiet)
    finished_run(short, Status.SUCCESS, seconds=30)

    now = T0 + timedelta(seconds=100)
    assert made(duration_deliveries_create(now=now)) == [
        (mirrored.pk, "ops", "duration"), (mirrored.pk, "team", "duration"),
        (queued.pk, "ops", "duration"), (queued.pk, "team", "duration")]
    assert made(duration_deliveries_create(now=T0 + timedelta(seconds=601))) == [(patient.pk, "ops", "duration")]


@pytest.mark.django_db(transaction=True)
def test_the_check_costs_a_few_queries_however_many_runs_are_going(hook, alerted, django_assert_max_num_queries):
    wid = alerted([{"channel": "ops", "on": ["duration"], "duration_s": 60}])
    other = alerted([{"channel": "ops", "on": ["duration"], "duration_s": 3600}])
    for _ in range(8):
        going(wid)
        going(other)
    with django_assert_max_num_queries(2):  # the versions' rules, the runs past the smallest limit: none
        assert duration_deliveries_create(now=T0 + timedelta(seconds=30)) == []
    # Past it: those two, then the deliveries already made, the channels, and one insert per alert.
    with django_assert_max_num_queries(4 + 8 * 3):  # an insert in a savepoint (begin, insert, release)
        assert len(duration_deliveries_create(now=T0 + timedelta(seconds=120))) == 8
    with django_assert_max_num_queries(4):
        assert duration_deliveries_create(now=T0 + timedelta(seconds=180)) == []
