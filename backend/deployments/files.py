"""Deployment files where Airflow reads DAGs. No Airflow call here.

Layout under LOOM_AIRFLOW_DAGS_DIR (inside Airflow's DAG folder), one folder per tenant:
    <tenant>/<dag id>.py                                   the rendered DAG file
    <tenant>/loom-notebooks/<tenant>/<sha256>/<name>       the notebook versions it pins
The DAG finds its notebooks in loom-notebooks/ beside itself (dags/airflow_tasks.py), so the
Airflow side needs no setting. Every file is written to a temporary name that Airflow does not
parse (*.tmp) and renamed into place, so Airflow never reads half a file.
"""
import hashlib
import os
import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from dags import naming
from deployments.models import Deployment

NOTEBOOKS_FOLDER = "loom-notebooks"
# Notebook versions no deployment pins any more are removed once they are this old, so a
# deploy running at the same time never loses the files it just wrote.
PRUNE_AFTER = timedelta(hours=1)


def tenant_dir(tenant: str) -> Path:
    return Path(settings.LOOM_AIRFLOW_DAGS_DIR) / tenant


def dag_path(*, tenant: str, dag_id: str) -> Path:
    return tenant_dir(tenant) / f"{dag_id}.py"


def deployment_files_remove(*, dag_id: str) -> None:
    """Remove a DAG file (Airflow stops seeing the DAG) and the notebooks nothing pins any more."""
    tenant = naming.dag_id_tenant(dag_id)
    dag_path(tenant=tenant, dag_id=dag_id).unlink(missing_ok=True)
    notebooks_prune(tenant=tenant)


def notebooks_prune(*, tenant: str) -> None:
    """Remove the tenant's notebook files no deployment pins, once older than PRUNE_AFTER."""
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


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file Airflow does not parse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
