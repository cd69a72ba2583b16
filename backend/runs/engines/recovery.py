"""The local engine's recovery: each worker's reaper thread calls `runs_reap` every
LOOM_REAP_INTERVAL_S (runs.worker), so any live worker heals what a dead worker, a broker
outage or a lost message left behind. Decisions are the local engine's (runs.engines.local).
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import Error, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from runs.bookkeeping import node_error
from runs.db import connection_drop
from runs.engines.local import LocalEngine, attempt_end, node_run_send, run_advance, tenant_fill
from runs.engines.slots import node_runs_waiting
from runs.models import NodeRun, Run, Status

log = logging.getLogger(__name__)


def runs_reap() -> None:
    """Fail (or retry) attempts whose worker died, send messages the broker did not take or a
    dead worker took with it, give free slots to waiting runs, and advance active runs.

    An attempt's heartbeat is refreshed every LOOM_HEARTBEAT_S; one older than
    LOOM_HEARTBEAT_TIMEOUT_S means its worker is gone (SIGKILL, crash, power): the attempt
    fails with that reason and the node retries if it has retries left. A message the broker
    refused (it was down) is sent again at the next pass; a dispatched node run still queued
    after LOOM_REDISPATCH_AFTER_S (its message died with a worker) is sent again; a duplicate
    is harmless. Each row and run is handled on its own: an error is logged and the pass goes on.
    """
    close_old_connections()
    now = timezone.now()
    stale = NodeRun.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.LOOM_HEARTBEAT_TIMEOUT_S))
    for row_id, run_id, token in stale.values_list("pk", "run_id", "token"):
        _isolated(f"reaping node run {row_id}", _reap_one, row_id, run_id, token, now)

    cutoff = now - timedelta(seconds=settings.LOOM_REDISPATCH_AFTER_S)
    unsent = Q(dispatched_at__isnull=True)
    lost = Q(dispatched_at__lt=cutoff) & (Q(not_before__isnull=True) | Q(not_before__lte=cutoff))
    resend = NodeRun.objects.filter(unsent | lost, status=Status.QUEUED).exclude(token="")
    for row_id, token, not_before in resend.values_list("pk", "token", "not_before"):
        if NodeRun.objects.filter(pk=row_id, token=token, status=Status.QUEUED).update(dispatched_at=now):
            node_run_send(row_id, token, countdown=max(0.0, (not_before - now).total_seconds()) if not_before else 0)

    for tenant_id in node_runs_waiting().order_by().values_list("run__tenant_id", flat=True).distinct():
        _isolated(f"filling the quota of tenant {tenant_id}", tenant_fill, tenant_id)
    for pk in Run.objects.filter(status=Status.RUNNING, engine=LocalEngine.name).values_list("pk", flat=True):
        _isolated(f"advancing run {pk}", _advance_one, pk)


def _reap_one(row_id: int, run_id: int, token: str, now) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        row = NodeRun.objects.select_for_update().get(pk=row_id)
        if row.status != Status.RUNNING or row.token != token or row.heartbeat_at >= now - timedelta(
                seconds=settings.LOOM_HEARTBEAT_TIMEOUT_S):
            return
        message = (f"The worker running this node ({row.worker}) stopped: no heartbeat for "
                   f"{settings.LOOM_HEARTBEAT_TIMEOUT_S} s.")
        log.warning("node run %s: %s", row_id, message)
        attempt_end(run, row, {"status": Status.FAILED, "error": node_error(message)}, now)
        run_advance(run=run)


def _advance_one(run_id: int) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
        run_advance(run=run)


def _isolated(what: str, fn, *args) -> None:
    """fn(*args); an error is logged (with a new connection after a database error) and the caller goes on."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - one bad row or run must not stop the reaper's pass for the others
        log.exception("%s failed", what)
        if isinstance(e, Error):
            connection_drop()
