"""Deploying workflow versions to Airflow: the deploy lifecycle (deploy, wait until Airflow has
parsed the DAG, undeploy). Files are written by deployments.files (notebooks first, so a DAG
Airflow sees finds its notebooks); the tenant's connections, pools and Variables are synced
by deployments.airflow_sync.
"""
import logging
import time

from airflow_client import client as ac
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import Action, record
from dags import naming
from dags.selectors import dag_file_get, dag_notebook_files
from deployments.airflow_sync import ARTIFACTS_VARIABLE, airflow_connections_sync, airflow_pools_sync, airflow_variable_set
from deployments.client import AirflowError, airflow_client, airflow_config_problem, paged
from deployments.files import NOTEBOOKS_FOLDER, dag_path, notebooks_prune, sha256, tenant_dir, write_atomic
from deployments.models import Deployment, DeploymentStatus
from deployments.signals import undeploying
from loom.errors import UpstreamFailed
from workflows.models import WorkflowVersion
from workflows.services import workflow_version_runnable

log = logging.getLogger(__name__)


class DeploymentFailed(UpstreamFailed):
    """Airflow could not import the DAG, or did not parse it in time (the message says which)."""


def engine_default() -> str:
    """Where a deployment goes when the request does not say: Airflow when configured, else local."""
    return "local" if airflow_config_problem() else "airflow"


def deployment_deploy(*, version: WorkflowVersion, user=None, engine: str = "airflow",
                      max_active_runs: int | None = None) -> Deployment:
    """Deploy a workflow version to `engine`, replacing the deployed one (on whichever engine).

    Airflow: write its DAG file and pinned notebooks, sync the tenant's connections and pool, and
    ask Airflow to parse the file. The deployment is then `deploying` until `deployment_check`
    sees Airflow's result. Local: deployed at once; Loom's scheduler (schedules.scheduler) runs it.

    Raises AirflowUnavailable (before anything is written), WorkflowInvalid with every problem,
    or AirflowError.
    """
    if engine == "local":
        return _deploy_local(version=version, user=user, max_active_runs=max_active_runs)
    client = airflow_client()
    dag = dag_file_get(version=version)
    client.check()
    workflow = version.workflow
    tenant = workflow.tenant
    dag_id = naming.airflow_dag_id(tenant=tenant.slug, workflow_id=workflow.pk)

    airflow_connections_sync(tenant=tenant)
    airflow_pools_sync(tenant=tenant)
    airflow_variable_set(ARTIFACTS_VARIABLE, str(settings.LOOM_AIRFLOW_ARTIFACTS_DIR))
    notebooks = tenant_dir(tenant.slug) / NOTEBOOKS_FOLDER
    for relpath, content in dag_notebook_files(version=version).items():
        if not (notebooks / relpath).exists():  # content-addressed: an existing file is this one
            write_atomic(notebooks / relpath, content)
    stale_error_at = _import_error(tenant=tenant.slug, dag_id=dag_id)[0]
    requested_at = timezone.now()
    write_atomic(dag_path(tenant=tenant.slug, dag_id=dag_id), dag.source)

    with transaction.atomic():
        deployment, _ = Deployment.objects.select_for_update().update_or_create(
            workflow=workflow,
            defaults={"tenant": tenant, "version": version, "dag_id": dag_id, "status": DeploymentStatus.DEPLOYING,
                      "engine": "airflow", "paused": False,
                      **({"max_active_runs": max_active_runs} if max_active_runs else {}),
                      "error": "", "source_sha256": sha256(dag.source), "requested_at": requested_at,
                      "stale_error_at": stale_error_at, "deployed_at": None, "parse_seconds": None,
                      **({"deployed_by": user} if user is not None and user.is_authenticated else {})},
        )
        record(Action.DEPLOYMENT_DEPLOYED, tenant=tenant, obj=workflow,
               after={"version": version.number, "dag_id": dag_id, "engine": "airflow"})
    _reparse(dag_id)
    notebooks_prune(tenant=tenant.slug)
    return deployment


def deployment_check(*, deployment: Deployment) -> Deployment:
    """Look once whether Airflow has parsed the deployed file: if it has, unpause the DAG and mark
    the deployment deployed; if Airflow reported an import error for it, or the parse timeout
    passed, mark it failed with the reason. Returns the deployment as it now is."""
    if deployment.status != DeploymentStatus.DEPLOYING:
        return deployment
    client = airflow_client()
    error = None
    try:
        parsed = client.dag_sources.get_dag_source(deployment.dag_id).content or ""
    except AirflowError as e:
        if e.status != 404:
            raise
        parsed = ""
    if sha256(parsed) != deployment.source_sha256:
        at, error = _import_error(tenant=deployment.tenant.slug, dag_id=deployment.dag_id)
        if at is not None and deployment.stale_error_at is not None and at <= deployment.stale_error_at:
            error = None  # the error of the file this version replaced
        waited = (timezone.now() - deployment.requested_at).total_seconds()
        if error is None and waited < settings.LOOM_AIRFLOW_PARSE_TIMEOUT_S:
            return deployment
        error = error or (f"Airflow did not parse {deployment.dag_id} within {settings.LOOM_AIRFLOW_PARSE_TIMEOUT_S:g} s "
                          "(LOOM_AIRFLOW_PARSE_TIMEOUT_S). Is its dag-processor running, and does its DAG folder "
                          "contain LOOM_AIRFLOW_DAGS_DIR?")
    else:
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=deployment.schedule_paused), update_mask=["is_paused"])
    now = timezone.now()
    with transaction.atomic():
        current = Deployment.objects.select_for_update().get(pk=deployment.pk)
        # A newer deploy of the same workflow wrote another file meanwhile: that one decides.
        if current.source_sha256 != deployment.source_sha256 or current.status != DeploymentStatus.DEPLOYING:
            return current
        if error:
            current.status, current.error = DeploymentStatus.FAILED, error
        else:
            current.status, current.deployed_at = DeploymentStatus.DEPLOYED, now
            current.parse_seconds = (now - current.requested_at).total_seconds()
        current.save(update_fields=["status", "error", "deployed_at", "parse_seconds"])
    return current


# {(dag id, source sha256): Airflow's last_parsed_time of the DAG when deployments_check last
# looked at that file's deployment in full}: this process's memory, so a restart costs one look more.
_looked: dict[tuple[str, str], object] = {}


def deployments_check(*, deployments) -> None:
    """deployment_check for many deployments awaiting Airflow's parse, at a cost per poll that
    does not grow with how many wait: one listing of Loom's DAGs and one of the import errors
    (a request per 100 each), then the full check (two requests) only of a deployment whose DAG
    Airflow parsed since it was last looked at, that has a new import error, or whose time is up."""
    waiting = [d for d in deployments if d.status == DeploymentStatus.DEPLOYING]
    if not waiting:
        _looked.clear()
        return
    client = airflow_client()
    parsed = {d.dag_id: d.last_parsed_time for d in paged(client.dags.get_dags, "dags",
                                                         dag_id_prefix_pattern=f"{naming.PREFIX}__")}
    errors = paged(client.import_errors.get_import_errors, "import_errors", filename_pattern=f"{naming.PREFIX}__")
    now = timezone.now()
    for deployment in waiting:
        key, parsed_at = (deployment.dag_id, deployment.source_sha256), parsed.get(deployment.dag_id)
        error_at = _import_error(tenant=deployment.tenant.slug, dag_id=deployment.dag_id, found=errors)[0]
        new_error = error_at is not None and (deployment.stale_error_at is None or error_at > deployment.stale_error_at)
        timed_out = (now - deployment.requested_at).total_seconds() >= settings.LOOM_AIRFLOW_PARSE_TIMEOUT_S
        if not (new_error or timed_out or (parsed_at is not None and _looked.get(key) != parsed_at)):
            continue
        _looked[key] = parsed_at
        try:
            deployment_check(deployment=deployment)
        except Exception:  # noqa: BLE001 - one deployment's trouble must not stop the others
            log.exception("checking %s failed", deployment.dag_id)
    for key in _looked.keys() - {(d.dag_id, d.source_sha256) for d in waiting}:
        del _looked[key]


def deployment_wait(*, deployment: Deployment, interval: float = 0.25) -> Deployment:
    """Check until the deployment is deployed or failed (at most LOOM_AIRFLOW_PARSE_TIMEOUT_S)."""
    while True:
        deployment = deployment_check(deployment=deployment)
        if deployment.status != DeploymentStatus.DEPLOYING:
            return deployment
        time.sleep(interval)


def deployment_ensure(*, version: WorkflowVersion) -> Deployment:
    """A deployment of exactly this version, parsed by Airflow: deploy and wait if needed.
    Raises DeploymentFailed with Airflow's import error (or the timeout) otherwise."""
    workflow, number = version.workflow, version.number
    deployment = Deployment.objects.filter(workflow=workflow).select_related("version").first()
    if deployment is not None and deployment.engine == "local":
        raise DeploymentFailed(f"'{workflow.name}' is deployed to the local engine, so Airflow has no DAG of it; "
                               "deploy it to Airflow to run it there.")
    if deployment is None or deployment.version.number != number or deployment.status == DeploymentStatus.FAILED:
        deployment = deployment_deploy(version=version)
    deployment = deployment_wait(deployment=deployment)
    if deployment.status != DeploymentStatus.DEPLOYED:
        raise DeploymentFailed(f"Version {number} of '{workflow.name}' could not be deployed to Airflow: {deployment.error}")
    if deployment.version.number != number:
        raise DeploymentFailed(f"Version {deployment.version.number} of '{workflow.name}' was deployed meanwhile; "
                               f"start the run again to run version {number}.")
    return deployment


def _deploy_local(*, version: WorkflowVersion, user, max_active_runs: int | None) -> Deployment:
    workflow = version.workflow
    workflow_version_runnable(version=version)
    current = Deployment.objects.filter(workflow=workflow).select_related("tenant", "version").first()
    if current is not None and current.engine == "airflow":
        deployment_undeploy(deployment=current)  # its DAG leaves Airflow, so that only Loom schedules it
    now = timezone.now()
    with transaction.atomic():
        deployment, _ = Deployment.objects.select_for_update().update_or_create(
            workflow=workflow,
            defaults={"tenant": workflow.tenant, "version": version, "engine": "local", "paused": False,
                      "dag_id": naming.airflow_dag_id(tenant=workflow.tenant.slug, workflow_id=workflow.pk),
                      "status": DeploymentStatus.DEPLOYED, "error": "", "source_sha256": "", "requested_at": now,
                      "deployed_at": now, "stale_error_at": None, "parse_seconds": None,
                      **({"max_active_runs": max_active_runs} if max_active_runs else {}),
                      **({"deployed_by": user} if user is not None and user.is_authenticated else {})},
        )
        record(Action.DEPLOYMENT_DEPLOYED, tenant=workflow.tenant, obj=workflow,
               after={"version": version.number, "engine": "local"})
    return deployment


def deployment_pause(*, deployment: Deployment, paused: bool) -> Deployment:
    """Pause or resume a deployment's schedule (on Airflow: the DAG's is_paused)."""
    if deployment.engine == "airflow" and deployment.status == DeploymentStatus.DEPLOYED:
        client = airflow_client()
        client.check()
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=paused or not deployment.tenant.is_active),
                              update_mask=["is_paused"])
    with transaction.atomic():
        before = deployment.paused
        deployment.paused = paused
        deployment.save(update_fields=["paused"])
        if before != paused:
            record(Action.DEPLOYMENT_PAUSED if paused else Action.DEPLOYMENT_RESUMED, tenant=deployment.tenant,
                   obj=deployment.workflow, after={"version": deployment.version.number, "engine": deployment.engine})
    return deployment


def deployment_undeploy(*, deployment: Deployment) -> None:
    """Stop scheduling the workflow. On Airflow: pause the DAG, stop its active runs (the
    `undeploying` signal: the runs app cancels them), remove its file and remove it from Airflow.
    On the local engine runs already started go on."""
    if deployment.engine == "local":
        with transaction.atomic():
            record(Action.DEPLOYMENT_UNDEPLOYED, tenant=deployment.tenant, obj=deployment.workflow,
                   before={"version": deployment.version.number, "engine": "local"})
            deployment.delete()
        return
    client = airflow_client()
    client.check()
    try:
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=True), update_mask=["is_paused"])
    except AirflowError as e:
        if e.status != 404:
            raise
    undeploying.send(sender=Deployment, workflow_id=deployment.workflow_id)
    with transaction.atomic():
        record(Action.DEPLOYMENT_UNDEPLOYED, tenant=deployment.tenant, obj=deployment.workflow,
               before={"version": deployment.version.number, "dag_id": deployment.dag_id, "engine": "airflow"})
        deployment.delete()  # receivers.deployment_deleted removes the file and the DAG


def airflow_dag_delete(*, dag_id: str, wait_s: float = 15) -> None:
    """Remove a DAG (and its runs' records) from Airflow; nothing if Airflow has no such DAG.
    Airflow refuses (409) while a task instance still runs: a failed DAG run's tasks take a few
    seconds to stop, so this tries again for up to `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            airflow_client().dags.delete_dag(dag_id)
            return
        except AirflowError as e:
            if e.status == 404:
                return
            if e.status != 409 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _reparse(dag_id: str) -> None:
    """Ask Airflow to parse an existing DAG's file now instead of at its next turn (a new file is
    found at the dag-processor's next scan of the folder: its refresh_interval)."""
    client = airflow_client()
    try:
        token = client.dags.get_dag(dag_id).file_token
    except AirflowError as e:
        if e.status == 404:
            return
        raise
    try:
        client.dag_parsing.reparse_dag_file(token)
    except AirflowError as e:
        if e.status != 409:  # 409: a parse of the file is requested already
            raise


def _import_error(*, tenant: str, dag_id: str, found: list | None = None) -> tuple:
    """(Airflow's timestamp, stack trace) of the import error of a DAG file, or (None, None); among
    `found` (import errors listed already) if given, else asking Airflow."""
    relpath = f"{tenant}/{dag_id}.py"
    if found is None:
        found = airflow_client().import_errors.get_import_errors(filename_pattern=dag_id, limit=100).import_errors
    for error in found:
        if error.filename == relpath or error.filename.endswith("/" + relpath):
            return error.timestamp, error.stack_trace
    return None, None
