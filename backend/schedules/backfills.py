"""Backfills: runs of a workflow for the logical dates of its schedule in a range.

On the local engine Loom starts them itself, at most `max_active_runs` at once
(`backfills_advance`, from every scheduler tick). On Airflow, Airflow's own backfill API runs
them; its DAG runs come back through the mirror as Loom runs with trigger=backfill, which
`backfills_advance` attaches to the backfill's dates. `reprocess` says which dates that have
a run already run again: none, the failed ones, or all (never one whose run is active).
"""
import logging
import time
from datetime import datetime

from airflow_client import client as ac
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import Action, record
from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from deployments.models import Deployment
from loom.errors import Conflict, FieldsInvalid, Unavailable
from runs.models import ACTIVE, FINISHED, Run, Status, Trigger
from runs.services import run_cancel, run_start
from tenancy.services import tenant_active_check
from workflows import timetable
from schedules.models import Backfill, BackfillDate, BackfillStatus, Reprocess
from workflows.models import Workflow, WorkflowVersion

log = logging.getLogger(__name__)


class BackfillConflict(Conflict):
    """The workflow has a backfill running already (one at a time, as in Airflow)."""


def backfill_plan(*, version: WorkflowVersion, start: datetime, end: datetime, reprocess: str,
                  now: datetime | None = None) -> list[dict]:
    """The dates a backfill of `version` would run: its schedule's slots in [start, end] (up to
    now), less those `reprocess` leaves alone. Each: {logical_date, data_interval_start,
    data_interval_end, existing_run, existing_status}."""
    graph = version.graph
    cron = timetable.cron_of(graph.get("schedule") or "")
    if cron is None:
        raise FieldsInvalid({"workflow": [f"Version {version.number} has no cron schedule to backfill "
                                          f"(schedule: {graph.get('schedule')!r})."]})
    if start > end:
        raise FieldsInvalid({"start": ["The start is after the end."]})
    slots = timetable.slots_between(cron, start, min(end, now or timezone.now()))
    if len(slots) > settings.LOOM_BACKFILL_MAX_DATES:
        raise FieldsInvalid({"end": [f"The range has {len(slots)} logical dates; a backfill may have at most "
                                     f"{settings.LOOM_BACKFILL_MAX_DATES} (LOOM_BACKFILL_MAX_DATES)."]})
    latest = {}
    for run in Run.objects.filter(workflow=version.workflow, logical_date__in=[s.logical_date for s in slots]).order_by("id"):
        latest[run.logical_date] = run  # the newest run of each date decides
    plan = []
    for slot in slots:
        run = latest.get(slot.logical_date)
        if run is not None and (run.status in ACTIVE or reprocess == Reprocess.NONE
                                or (reprocess == Reprocess.FAILED and run.status == Status.SUCCESS)):
            continue
        plan.append({"logical_date": slot.logical_date, "data_interval_start": slot.data_interval_start,
                     "data_interval_end": slot.data_interval_end, "existing_run": run.pk if run else None,
                     "existing_status": run.status if run else None})
    return plan


def backfill_create(*, workflow: Workflow, version: WorkflowVersion, engine: str, start: datetime, end: datetime,
                    reprocess: str, max_active_runs: int, user=None) -> Backfill:
    """Start a backfill. Raises FieldsInvalid, BackfillConflict, TenantInactive or Unavailable (Airflow)."""
    tenant_active_check(workflow.tenant)
    if Backfill.objects.filter(workflow=workflow, status=BackfillStatus.RUNNING).exists():
        raise BackfillConflict(f"'{workflow.name}' has a backfill running; cancel it or wait until it ends.")
    plan = backfill_plan(version=version, start=start, end=end, reprocess=reprocess)
    external_id = ""
    if engine == "airflow":
        external_id = _airflow_backfill(workflow=workflow, version=version, start=start, end=end, reprocess=reprocess,
                                        max_active_runs=max_active_runs)
    with transaction.atomic():
        backfill = Backfill.objects.create(
            tenant=workflow.tenant, workflow=workflow, version=version, engine=engine, start=start, end=end,
            reprocess=reprocess, max_active_runs=max_active_runs, external_id=external_id,
            created_by=user if user is not None and user.is_authenticated else None,
            status=BackfillStatus.RUNNING if plan else BackfillStatus.SUCCESS, ended_at=None if plan else timezone.now())
        BackfillDate.objects.bulk_create([BackfillDate(backfill=backfill, logical_date=d["logical_date"],
                                                       data_interval_start=d["data_interval_start"],
                                                       data_interval_end=d["data_interval_end"]) for d in plan])
        record(Action.BACKFILL_STARTED, tenant=workflow.tenant, obj=backfill,
               label=f"backfill {backfill.pk} of {workflow.name}",
               after={"workflow": workflow.pk, "version": version.number, "engine": engine, "start": start.isoformat(),
                      "end": end.isoformat(), "reprocess": reprocess, "dates": len(plan)})
    backfill_advance(backfill)
    return backfill


def _airflow_backfill(*, workflow, version, start, end, reprocess, max_active_runs) -> str:
    """Ask Airflow to backfill the workflow's deployed DAG; its backfill's id."""
    deployment = Deployment.objects.filter(workflow=workflow, engine="airflow").select_related("version").first()
    if deployment is None or deployment.version_id != version.pk:
        raise FieldsInvalid({"engine": [f"Version {version.number} of '{workflow.name}' is not the version deployed to "
                                        "Airflow; deploy it to Airflow first."]})
    body = ac.BackfillPostBody(dag_id=deployment.dag_id, from_date=start, to_date=end, max_active_runs=max_active_runs,
                               reprocess_behavior=ac.ReprocessBehavior(reprocess), dag_run_conf={})
    client, asked = airflow_client(), time.monotonic()
    while True:
        try:
            return str(client.backfills.create_backfill(body).id)
        except (AirflowUnavailable, AirflowError) as e:
            # An Airflow on SQLite answers 503 while its database is locked (try again), or takes
            # longer than Loom waits: the backfill may exist then, and is this one.
            if isinstance(e, AirflowError) and e.status != 503:
                if e.status >= 500:
                    raise Unavailable(f"Airflow did not create the backfill: {e.detail}") from e
                raise FieldsInvalid({"detail": [f"Airflow refused the backfill: {e.detail}"]}) from e
            found = _airflow_active_backfill(client, deployment.dag_id, start, end)
            if found is not None:
                return found
            if time.monotonic() - asked > settings.LOOM_AIRFLOW_SUBMIT_TIMEOUT_S:
                raise Unavailable(f"Airflow did not create the backfill: {e}") from e
            time.sleep(1)


def _airflow_active_backfill(client, dag_id: str, start: datetime, end: datetime) -> str | None:
    try:
        found = client.backfills.list_backfills(dag_id, order_by=["-id"], limit=5).backfills
    except (AirflowUnavailable, AirflowError):
        return None
    for backfill in found:
        if backfill.completed_at is None and backfill.from_date == start and backfill.to_date == end:
            return str(backfill.id)
    return None


def backfill_cancel(*, backfill: Backfill) -> Backfill:
    """Stop what has not started; runs already started go on (cancel them one by one if need be)."""
    if backfill.engine == "airflow" and backfill.external_id and backfill.status == BackfillStatus.RUNNING:
        try:
            airflow_client().backfills.cancel_backfill(int(backfill.external_id))
        except AirflowError as e:
            if e.status not in (404, 409):
                raise
        except AirflowUnavailable as e:
            raise Unavailable(str(e)) from e
    with transaction.atomic():
        backfill = Backfill.objects.select_for_update().select_related("tenant", "workflow").get(pk=backfill.pk)
        if backfill.status != BackfillStatus.RUNNING:
            return backfill
        unstarted = backfill.dates.filter(run=None).update(cancelled=True)
        record(Action.BACKFILL_CANCELLED, tenant=backfill.tenant, obj=backfill,
               label=f"backfill {backfill.pk} of {backfill.workflow.name}",
               before={"status": backfill.status}, after={"status": BackfillStatus.CANCELLED, "dates_cancelled": unstarted})
        if backfill.engine == "airflow":  # queued DAG runs Airflow made for it: Loom cancels their runs
            for run in Run.objects.filter(pk__in=backfill.dates.values("run"), status=Status.QUEUED, started_at=None):
                transaction.on_commit(lambda run=run: run_cancel(run=run))
        backfill.status, backfill.ended_at = BackfillStatus.CANCELLED, timezone.now()
        backfill.save(update_fields=["status", "ended_at"])
    return backfill


def backfills_advance() -> None:
    """Advance every running backfill (called by each scheduler tick)."""
    for backfill in Backfill.objects.filter(status=BackfillStatus.RUNNING).select_related("version", "workflow"):
        try:
            backfill_advance(backfill)
        except Exception:  # noqa: BLE001 - one backfill's trouble must not stop the others
            log.exception("advancing backfill %s failed", backfill.pk)


def backfill_advance(backfill: Backfill) -> None:
    """Start the dates that fit within max_active_runs (local), attach mirrored runs (Airflow),
    and end the backfill when every date's run has finished."""
    if backfill.status != BackfillStatus.RUNNING:
        return
    dates = list(backfill.dates.select_related("run").filter(cancelled=False))
    if backfill.engine == "airflow":
        _attach_mirrored(backfill, [d for d in dates if d.run is None])
        if any(d.run is None for d in dates) and _airflow_completed(backfill):
            # Airflow ended the backfill without a DAG run for these dates: they will not run.
            backfill.dates.filter(run=None).update(cancelled=True)
            dates = [d for d in dates if d.run is not None]
    else:
        room = backfill.max_active_runs - sum(1 for d in dates if d.run is not None and d.run.status in ACTIVE)
        for date in [d for d in dates if d.run is None][:max(room, 0)]:
            date.run = run_start(version=backfill.version, engine="local", trigger=Trigger.BACKFILL,
                                 logical_date=date.logical_date,
                                 data_interval=(date.data_interval_start, date.data_interval_end))
            date.save(update_fields=["run"])
    if all(d.run is not None and d.run.status in FINISHED for d in dates):
        failed = any(d.run.status != Status.SUCCESS for d in dates)
        Backfill.objects.filter(pk=backfill.pk, status=BackfillStatus.RUNNING).update(
            status=BackfillStatus.FAILED if failed else BackfillStatus.SUCCESS, ended_at=timezone.now())


def _attach_mirrored(backfill: Backfill, dates: list[BackfillDate]) -> None:
    """The runs the mirror imported for this Airflow backfill's dates."""
    if not dates:
        return
    runs = {r.logical_date: r for r in Run.objects.filter(
        workflow=backfill.workflow, engine="airflow", trigger=Trigger.BACKFILL, created_at__gte=backfill.created_at,
        logical_date__in=[d.logical_date for d in dates]).select_related("tenant")}
    for date in dates:
        if date.logical_date in runs:
            date.run = runs[date.logical_date]
            date.save(update_fields=["run"])


def _airflow_completed(backfill: Backfill) -> bool:
    """Whether Airflow finished its backfill a while ago (the mirror had time to import its runs)."""
    try:
        completed = airflow_client().backfills.get_backfill(int(backfill.external_id)).completed_at
    except (AirflowError, AirflowUnavailable):
        return False
    return completed is not None and (timezone.now() - completed).total_seconds() > 3 * settings.LOOM_AIRFLOW_POLL_S + 10


def backfill_progress(backfill: Backfill) -> dict:
    """{status: count} over the backfill's dates: queued (no run yet), cancelled, or its run's status."""
    counts = {}
    for date in backfill.dates.all().select_related("run"):
        state = date_state(date)
        counts[state] = counts.get(state, 0) + 1
    return counts


def date_state(date: BackfillDate) -> str:
    if date.run is not None:
        return date.run.status
    return Status.CANCELLED if date.cancelled else Status.QUEUED


