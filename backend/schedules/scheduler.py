"""Loom's scheduler for the local engine: `schedules_tick` starts the runs that deployed
workflows' schedules make due, and advances backfills (schedules.backfills).

Celery beat, with django-celery-beat's database schedule, sends the tick task every
LOOM_SCHEDULER_TICK_S (one PeriodicTask row, schedules.beat); whichever worker receives it acts
only while it holds the `scheduler` lease, so exactly one scheduler acts at a time however many
beats or workers run. The unique constraint `unique_scheduled_run` (workflow, logical date) is
the last word: a second run for one logical date is never written, even by a scheduler whose
lease expired while it worked. Which dates are due is workflows/timetable.py's (croniter); the clock is
the caller's `now`, so tests move it.
"""
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone

from deployments.models import Deployment
from runs.engines.airflow.lease import lease_take
from runs.models import ACTIVE, Lease, Run, Trigger
from runs.services import run_start
from workflows import timetable

log = logging.getLogger(__name__)
LEASE = "scheduler"


def schedules_tick(*, now: datetime | None = None, holder: str | None = None) -> list[Run] | None:
    """One pass of the scheduler, if it can take the lease (else None: another one acts). Returns
    the runs it started."""
    from schedules.backfills import backfills_advance

    holder = holder or f"tick-{uuid.uuid4().hex[:8]}"
    ttl = timedelta(seconds=max(30.0, 6 * settings.LOOM_SCHEDULER_TICK_S))
    if not lease_take(LEASE, holder=holder, ttl=ttl):
        return None
    now = now or timezone.now()
    try:
        started = []
        due = Deployment.objects.filter(engine="local", paused=False, tenant__is_active=True)
        for deployment in due.select_related("version", "workflow"):
            try:
                started += deployment_tick(deployment, now=now)
            except Exception:  # noqa: BLE001 - one workflow's trouble must not stop the others
                log.exception("scheduling workflow %s failed", deployment.workflow_id)
        backfills_advance()
        return started
    finally:
        Lease.objects.filter(name=LEASE, holder=holder).delete()


def deployment_tick(deployment: Deployment, *, now: datetime) -> list[Run]:
    """Start the runs of one local deployment's schedule that are due at `now`, within max_active_runs."""
    graph = deployment.version.graph
    schedule = graph.get("schedule")
    if not schedule:
        return []
    runs = Run.objects.filter(workflow_id=deployment.workflow_id, trigger=Trigger.SCHEDULE)
    active = runs.filter(status__in=ACTIVE).count()
    room = deployment.max_active_runs - active
    if schedule == timetable.CONTINUOUS:
        slots = [timetable.Slot(now, now, now)] if active == 0 else []
    else:
        slots = timetable.due_slots(schedule, start_date=graph.get("start_date", "2026-01-01"),
                                    catchup=bool(graph.get("catchup")), last=runs.aggregate(m=Max("logical_date"))["m"],
                                    now=now, limit=room)
    started = []
    for slot in slots:
        try:
            started.append(run_start(version=deployment.version, engine="local", trigger=Trigger.SCHEDULE,
                                     logical_date=slot.logical_date, data_interval=slot[1:]))
        except IntegrityError:
            log.info("workflow %s: a run for %s exists already", deployment.workflow_id, slot.logical_date)
    return started
