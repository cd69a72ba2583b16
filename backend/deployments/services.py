"""Deploying workflow versions to Airflow: files where Airflow reads DAGs, the tenant's
connections and pool in Airflow, and waiting until Airflow has parsed the DAG.

Layout under LOOM_AIRFLOW_DAGS_DIR (inside Airflow's DAG folder), one folder per tenant:
    <tenant>/<dag id>.py                                   the rendered DAG file
    <tenant>/loom-notebooks/<tenant>/<sha256>/<name>       the notebook versions it pins
The DAG finds its notebooks in loom-notebooks/ beside itself (dags/airflow_tasks.py), so the
Airflow side needs no setting. Every file is written to a temporary name that Airflow does not
parse (*.tmp) and renamed into place, so Airflow never reads half a file; notebooks go first,
so a DAG Airflow sees finds its notebooks.
"""
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

from airflow_client import client as ac
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dags import naming
from dags.selectors import dag_file_get, dag_notebook_files
from deployments.client import AirflowError, airflow_client
from deployments.models import Deployment, DeploymentStatus
from loom.errors import UpstreamFailed
from tenancy.models import Connection, Tenant
from workflows.graph import graph_normalize
from workflows.models import WorkflowVersion

log = logging.getLogger(__name__)
NOTEBOOKS_FOLDER = "loom-notebooks"
# The Airflow Variable a DAG reads its artifacts folder from when its worker has no
# LOOM_AIRFLOW_ARTIFACTS_DIR of its own (rendering.ARTIFACTS_DIR_SETTING).
ARTIFACTS_VARIABLE = "loom_artifacts_dir"
# Notebook versions no deployment pins any more are removed once they are this old, so a
# deploy running at the same time never loses the files it just wrote.
PRUNE_AFTER = timedelta(hours=1)


class DeploymentFailed(UpstreamFailed):
    """Airflow could not import the DAG, or did not parse it in time (the message says which)."""


def tenant_dir(tenant: str) -> Path:
    return Path(settings.LOOM_AIRFLOW_DAGS_DIR) / tenant


def dag_path(*, tenant: str, dag_id: str) -> Path:
    return tenant_dir(tenant) / f"{dag_id}.py"


def deployment_deploy(*, version: WorkflowVersion, user=None) -> Deployment:
    """Deploy a workflow version: write its DAG file and pinned notebooks, sync the tenant's
    connections and pool, and ask Airflow to parse the file. The deployment is then
    `deploying` until `deployment_check` sees Airflow's result.

    Raises AirflowUnavailable (before anything is written), WorkflowInvalid with every problem,
    or AirflowError.
    """
    client = airflow_client()
    dag = dag_file_get(version=version)
    client.check()
    workflow = version.workflow
    tenant = workflow.tenant
    dag_id = naming.airflow_dag_id(tenant=tenant.slug, workflow_id=workflow.pk)

    airflow_connections_sync(tenant=tenant)
    airflow_pools_sync(tenant=tenant, graph=version.graph)
    _variable_set(ARTIFACTS_VARIABLE, str(settings.LOOM_AIRFLOW_ARTIFACTS_DIR))
    notebooks = tenant_dir(tenant.slug) / NOTEBOOKS_FOLDER
    for relpath, content in dag_notebook_files(version=version).items():
        if not (notebooks / relpath).exists():  # content-addressed: an existing file is this one
            _write_atomic(notebooks / relpath, content)
    stale_error_at = _import_error(tenant=tenant.slug, dag_id=dag_id)[0]
    requested_at = timezone.now()
    _write_atomic(dag_path(tenant=tenant.slug, dag_id=dag_id), dag.source)

    with transaction.atomic():
        deployment, _ = Deployment.objects.select_for_update().update_or_create(
            workflow=workflow,
            defaults={"tenant": tenant, "version": version, "dag_id": dag_id, "status": DeploymentStatus.DEPLOYING,
                      "error": "", "source_sha256": _sha256(dag.source), "requested_at": requested_at,
                      "stale_error_at": stale_error_at, "deployed_at": None, "parse_seconds": None,
                      **({"deployed_by": user} if user is not None and user.is_authenticated else {})},
        )
    _reparse(dag_id)
    _notebooks_prune(tenant=tenant.slug)
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
    if _sha256(parsed) != deployment.source_sha256:
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
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=False), update_mask=["is_paused"])
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
    if deployment is None or deployment.version.number != number or deployment.status == DeploymentStatus.FAILED:
        deployment = deployment_deploy(version=version)
    deployment = deployment_wait(deployment=deployment)
    if deployment.status != DeploymentStatus.DEPLOYED:
        raise DeploymentFailed(f"Version {number} of '{workflow.name}' could not be deployed to Airflow: {deployment.error}")
    if deployment.version.number != number:
        raise DeploymentFailed(f"Version {deployment.version.number} of '{workflow.name}' was deployed meanwhile; "
                               f"start the run again to run version {number}.")
    return deployment


def deployment_undeploy(*, deployment: Deployment) -> None:
    """Pause the DAG, stop its active runs, remove its file and remove it from Airflow."""
    from runs.models import ACTIVE, Run
    from runs.services import run_cancel

    client = airflow_client()
    client.check()
    try:
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=True), update_mask=["is_paused"])
    except AirflowError as e:
        if e.status != 404:
            raise
    for run in Run.objects.filter(workflow_id=deployment.workflow_id, engine="airflow", status__in=ACTIVE):
        run_cancel(run=run)
    deployment.delete()  # receivers.deployment_deleted removes the file and the DAG


def deployment_files_remove(*, dag_id: str) -> None:
    """Remove a DAG file (Airflow stops seeing the DAG) and the notebooks nothing pins any more."""
    tenant = naming.dag_id_tenant(dag_id)
    dag_path(tenant=tenant, dag_id=dag_id).unlink(missing_ok=True)
    _notebooks_prune(tenant=tenant)


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


def airflow_tenant_sync(*, tenant_id: int) -> None:
    """The tenant's connections and pool in Airflow, as they are in Loom now."""
    tenant = Tenant.objects.get(pk=tenant_id)
    airflow_connections_sync(tenant=tenant)
    airflow_pools_sync(tenant=tenant)


def airflow_connections_sync(*, tenant: Tenant) -> None:
    """Make Airflow's connections `loom__<tenant>__*` exactly the tenant's connections, secrets
    included. This is the only place secrets leave Loom: into Airflow's connections."""
    client = airflow_client()
    prefix = naming.airflow_conn_id(tenant=tenant.slug, connection="")
    existing, offset = set(), 0
    while True:
        page = client.connections.get_connections(connection_id_prefix_pattern=prefix, limit=100, offset=offset)
        existing |= {c.connection_id for c in page.connections if c.connection_id.startswith(prefix)}
        offset += len(page.connections)
        if not page.connections or offset >= page.total_entries:
            break
    wanted = set()
    for conn in Connection.objects.filter(tenant=tenant):
        conn_id = naming.airflow_conn_id(tenant=tenant.slug, connection=conn.name)
        wanted.add(conn_id)
        body = ac.ConnectionBody(
            connection_id=conn_id, conn_type=conn.kind, description=conn.description or None, host=conn.host or None,
            port=conn.port, login=conn.login or None, password=conn.get_secret() or None,
            var_schema=conn.schema or None, extra=json.dumps(conn.extra) if conn.extra else None,
        )
        if conn_id in existing:
            client.connections.patch_connection(conn_id, body)
        else:
            client.connections.post_connection(body)
    for conn_id in existing - wanted:
        client.connections.delete_connection(conn_id)


def airflow_pools_sync(*, tenant: Tenant, graph: dict | None = None) -> None:
    """The tenant's pool `loom__<tenant>` with as many slots as its concurrency quota, and any pool
    a node of `graph` names (`loom__<tenant>__<pool>`, created with the quota's size if missing;
    an operator may resize those in Airflow)."""
    client = airflow_client()
    main = naming.airflow_pool(tenant=tenant.slug)
    named = {naming.airflow_pool(tenant=tenant.slug, pool=n["pool"])
             for n in graph_normalize(graph)["nodes"] if n["pool"]} if graph else set()
    for name in [main, *sorted(named)]:
        try:
            pool = client.pools.get_pool(name)
        except AirflowError as e:
            if e.status != 404:
                raise
            client.pools.post_pool(ac.PoolBody(name=name, slots=tenant.concurrency_quota,
                                               description=f"Loom tenant {tenant.slug}"))
            continue
        if name == main and pool.slots != tenant.concurrency_quota:
            client.pools.patch_pool(name, ac.PoolPatchBody(pool=name, slots=tenant.concurrency_quota,
                                                           include_deferred=bool(pool.include_deferred)),
                                    update_mask=["slots"])


def _variable_set(key: str, value: str) -> None:
    client = airflow_client()
    try:
        if client.variables.get_variable(key).value == value:
            return
        client.variables.patch_variable(key, ac.VariableBody(key=key, value=value))
    except AirflowError as e:
        if e.status != 404:
            raise
        client.variables.post_variable(ac.VariableBody(key=key, value=value))


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


def _import_error(*, tenant: str, dag_id: str) -> tuple:
    """(Airflow's timestamp, stack trace) of the import error of a DAG file, or (None, None)."""
    relpath = f"{tenant}/{dag_id}.py"
    found = airflow_client().import_errors.get_import_errors(filename_pattern=dag_id, limit=100).import_errors
    for error in found:
        if error.filename == relpath or error.filename.endswith("/" + relpath):
            return error.timestamp, error.stack_trace
    return None, None


def _notebooks_prune(*, tenant: str) -> None:
    root = tenant_dir(tenant) / NOTEBOOKS_FOLDER / tenant
    if not root.is_dir():
        return
    pinned = set()
    for deployment in Deployment.objects.filter(tenant__slug=tenant).select_related("version"):
        pinned |= {pin["sha256"] for pin in deployment.version.notebook_pins.values()}
    cutoff = time.time() - PRUNE_AFTER.total_seconds()
    for folder in root.iterdir():
        if folder.name not in pinned and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

