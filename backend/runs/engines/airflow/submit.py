"""Submitting a run to Airflow, and failing its DAG run when it is cancelled.

A submission is asked for inside the transaction that starts (or repairs) the run
(`submission_request`): a Celery task (`airflow_run_submit`) then makes the run's version the
deployed one if it is not (deploying it and waiting until Airflow has parsed it), and
triggers the DAG run `loom-<run id>-<random>` with the run's parameters as its conf. The
request is a lease `airflow-submit-<run id>` with a deadline (LOOM_AIRFLOW_SUBMIT_TIMEOUT_S),
removed once the DAG run exists or the run failed. A lease past its deadline is a lost
submission (the task's message lost, its worker killed): the mirror (`submissions_check`)
sends it once more, and fails the run, saying so, when that one is lost too.
"""
import logging
import uuid
from datetime import timedelta

from airflow_client import client as ac
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deployments.client import AirflowError, AirflowUnavailable, airflow_client
from deployments.services import DeploymentFailed, deployment_ensure
from runs.engines import AIRFLOW_RUN_SUBMIT, task_send
from runs.engines.airflow.states import dag_id
from runs.models import ACTIVE, Lease, Run, Status
from runs.signals import run_finished_send
from runs.reuse import REUSE_CONF
from workflows.services import WorkflowInvalid

log = logging.getLogger(__name__)
# The DAG run conf key with the run's logical date and data interval, when Airflow's DAG run
# cannot carry them (dags/airflow_tasks.py).
DATES_CONF = "__loom_dates"
SUBMIT_LEASE = "airflow-submit-"
RESENT = "resent"


def submission_request(run: Run) -> None:
    """Inside the run's transaction: submit it to Airflow after the commit, by a deadline."""
    deadline = timezone.now() + timedelta(seconds=settings.LOOM_AIRFLOW_SUBMIT_TIMEOUT_S)
    Lease.objects.update_or_create(name=f"{SUBMIT_LEASE}{run.pk}", defaults={"holder": "", "expires_at": deadline})
    transaction.on_commit(lambda: task_send(AIRFLOW_RUN_SUBMIT, run.pk))


def submission_pending(run_id: int) -> bool:
    """Whether the run's DAG run is still to be triggered."""
    return Lease.objects.filter(name=f"{SUBMIT_LEASE}{run_id}").exists()


def _submission_done(run_id: int) -> None:
    Lease.objects.filter(name=f"{SUBMIT_LEASE}{run_id}").delete()


def airflow_run_submit(*, run_id: int) -> None:
    """Deploy the run's version if it is not the deployed one, then trigger the DAG run. Any
    failure (Airflow unreachable, an import error, anything unexpected) fails the run, saying why."""
    try:
        _submit(run_id)
    except (DeploymentFailed, AirflowUnavailable, AirflowError, WorkflowInvalid) as e:
        run_fail(run_id, str(e))
    except Exception as e:  # noqa: BLE001 - a run must never wait for a submission that died
        log.exception("submitting run %s to Airflow failed", run_id)
        run_fail(run_id, f"Loom could not submit the run to Airflow: {type(e).__name__}: {e}")


def _submit(run_id: int) -> None:
    run = Run.objects.select_related("tenant", "version", "workflow").get(pk=run_id)
    if run.status not in ACTIVE:
        _submission_done(run_id)
        return
    deployment_ensure(version=run.version)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("tenant", "version", "workflow").get(pk=run_id)
        if run.status not in ACTIVE:
            _submission_done(run_id)
            return
        if not run.external_id:
            # Known before Airflow is asked, so the mirror never takes it for a run Airflow started.
            run.external_id = f"loom-{run.pk}-{uuid.uuid4().hex[:6]}"
            run.save(update_fields=["external_id"])
    dates = {"logical_date": run.logical_date, "data_interval_start": run.data_interval_start,
             "data_interval_end": run.data_interval_end}
    try:
        _trigger(run, conf=run_conf(run), **dates)
    except AirflowError as e:
        if e.status != 409:
            raise
        if not _dag_run_exists(run):
            # Not a repeated message: Airflow keeps one DAG run per logical date, and a repaired run's
            # first DAG run holds it. This one goes without; its tasks read the dates from the conf.
            _trigger(run, conf={**run_conf(run), DATES_CONF: {k: v.isoformat() for k, v in dates.items() if v}},
                     logical_date=None, data_interval_start=None, data_interval_end=None)
    _submission_done(run_id)
    if Run.objects.filter(pk=run.pk, status=Status.CANCELLED).exists():
        dag_run_fail(run)  # cancelled while it was being triggered


def _trigger(run: Run, *, conf: dict, **dates) -> None:
    airflow_client().dag_runs.trigger_dag_run(dag_id(run), ac.TriggerDAGRunPostBody(
        dag_run_id=run.external_id, conf=conf, note=f"Loom run {run.pk}", **dates))


def _dag_run_exists(run: Run) -> bool:
    try:
        airflow_client().dag_runs.get_dag_run(dag_id(run), run.external_id)
        return True
    except AirflowError as e:
        if e.status == 404:
            return False
        raise


def run_conf(run: Run) -> dict:
    """The DAG run's conf: the run's parameters and, under REUSE_CONF, {node: outputs} of the nodes
    Airflow must not run (reused, cached, kept by a repair): their tasks return these outputs."""
    if not run.reuse:
        return dict(run.parameters)
    rows = dict(run.node_runs.filter(map_index=None, node__in=list(run.reuse)).values_list("node", "outputs"))
    # None: the node is not part of a partial run (its task skips itself).
    return {**run.parameters, REUSE_CONF: {nid: rows[nid] if source is not None else None for nid, source in run.reuse.items()}}


def run_fail(run_id: int, message: str) -> None:
    """Fail an active run that Airflow will not run: its unfinished nodes become upstream_failed."""
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        _submission_done(run_id)
        if run.status not in ACTIVE:
            return
        run.node_runs.filter(status__in=ACTIVE).update(status=Status.UPSTREAM_FAILED, ended_at=now)
        run.status, run.error, run.ended_at = Status.FAILED, message, now
        run.save(update_fields=["status", "error", "ended_at"])
        run_finished_send(run)


def submissions_check() -> None:
    """Lost submissions: send a submission past its deadline once more; fail the run when the
    second one is lost too. No Airflow call here (the submit task makes them)."""
    now = timezone.now()
    for lease in Lease.objects.filter(name__startswith=SUBMIT_LEASE, expires_at__lt=now):
        run_id = int(lease.name.removeprefix(SUBMIT_LEASE))
        if not Run.objects.filter(pk=run_id, status__in=ACTIVE).exists():
            _submission_done(run_id)
            continue
        if lease.holder != RESENT:
            deadline = now + timedelta(seconds=settings.LOOM_AIRFLOW_SUBMIT_TIMEOUT_S)
            if Lease.objects.filter(pk=lease.pk, holder=lease.holder).update(holder=RESENT, expires_at=deadline):
                log.warning("run %s: its submission to Airflow was lost; sending it again", run_id)
                task_send(AIRFLOW_RUN_SUBMIT, run_id)
            continue
        log.warning("run %s: its submission to Airflow was lost twice; failing it", run_id)
        run_fail(run_id, f"Loom lost this run's submission to Airflow: no DAG run was triggered within "
                         f"{settings.LOOM_AIRFLOW_SUBMIT_TIMEOUT_S:g} s (LOOM_AIRFLOW_SUBMIT_TIMEOUT_S), twice. "
                         "Repair the run to submit it again.")


def dag_run_fail(run: Run) -> None:
    """Set the run's DAG run to failed in Airflow, which stops its running tasks (none: nothing)."""
    try:
        airflow_client().dag_runs.patch_dag_run(dag_id(run), run.external_id, ac.DAGRunPatchBody(state="failed"),
                                                update_mask=["state"])
    except AirflowError as e:
        if e.status != 404:
            raise


def airflow_run_cancel(*, run_id: int) -> None:
    """Fail the DAG run of a run cancelled in Loom (the Celery task retries while Airflow is away)."""
    run = Run.objects.select_related("tenant").get(pk=run_id)
    if run.status == Status.CANCELLED and run.external_id:
        dag_run_fail(run)

