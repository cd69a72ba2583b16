"""What a finished task instance left in Airflow: its log (parsed from Airflow's structured
events), its outputs or error (XCom; for a crash or a timeout, the exception in its log), the
warnings its node run shows (from its log), and its executed notebook (from LOOM_AIRFLOW_ARTIFACTS_DIR)."""
import json
from pathlib import Path


from dags import naming
from dags.airflow_tasks import ERROR_XCOM_KEY, WARNING_PREFIX
from deployments.client import AirflowError
from runs.artifacts import task_file_read
from runs.bookkeeping import node_error
from runs.models import Status
from runtime.sandbox import UNSANDBOXED_WARNING

# The warnings a task may log (dags/airflow_tasks.py's WARNING_PREFIX): only these, word for word,
# so that what a notebook prints cannot put other text among its node run's warnings.
TASK_WARNINGS = (UNSANDBOXED_WARNING,)


def finished_details(client, run, dag_id: str, ti, status: str, nodes: dict) -> dict:
    """{log, warnings, outputs (success) or error (failure), notebook (when written)} of a finished task."""
    logged = log_read(client, dag_id, run.external_id, ti)
    detail = {"log": logged["text"], "warnings": log_warnings(logged["events"])}
    items_task = ti.task_id.endswith(naming.ITEMS_SUFFIX)
    if status == Status.SUCCESS and not items_task:
        detail["outputs"] = _xcom(client, dag_id, run.external_id, ti, "return_value") or {}
    if status == Status.FAILED:
        error = None if items_task else _xcom(client, dag_id, run.external_id, ti, ERROR_XCOM_KEY)
        detail["error"] = error if isinstance(error, dict) else log_error(logged["events"], ti)
    if not items_task and ti.task_id in nodes and (ti.try_number or 0) > 0:
        index = [str(ti.map_index)] if ti.map_index >= 0 else []
        executed = task_file_read(tenant=run.tenant.slug, parts=[
            dag_id, run.external_id, ti.task_id, *index, Path(nodes[ti.task_id]["notebook"]).name])
        if executed is not None:
            detail["notebook"] = executed
    return detail


def _xcom(client, dag_id: str, run_id: str, ti, key: str):
    return xcom_value(client, dag_id, run_id, ti.task_id, key, map_index=ti.map_index)


def xcom_value(client, dag_id: str, run_id: str, task_id: str, key: str = "return_value", *, map_index: int = -1):
    """A task's XCom value, None when it has none."""
    try:
        entry = client.xcoms.get_xcom_entry(dag_id, task_id, run_id, key, map_index=map_index)
    except AirflowError as e:
        if e.status == 404:
            return None
        raise
    return getattr(entry.actual_instance, "value", None)


def log_read(client, dag_id: str, run_id: str, ti) -> dict:
    """The task's log for its last try, as text, and its structured events (for the error)."""
    if not ti.try_number:
        return {"text": "", "events": []}
    response = client.task_instances.get_log_without_preload_content(
        dag_id, run_id, ti.task_id, ti.try_number, full_content=True, map_index=ti.map_index, accept="application/json")
    if response.status != 200:
        return {"text": f"(Airflow answered {response.status} for the log)", "events": []}
    try:
        events = json.loads(response.data).get("content") or []
    except ValueError:
        return {"text": response.data.decode("utf-8", "replace"), "events": []}
    events = [e if isinstance(e, dict) else {"event": str(e)} for e in events]
    lines = []
    for e in events:
        stamp = e.get("timestamp", "")
        prefix = f"[{stamp[11:19]}] {e.get('level', '').upper():7} " if stamp else ""
        lines.append(f"{prefix}{e.get('event', '')}")
        for err in e.get("error_detail") or []:
            lines.append(f"    {err.get('exc_type')}: {err.get('exc_value')}")
    return {"text": "\n".join(lines) + "\n", "events": events}


def log_warnings(events: list) -> list[str]:
    """The warnings a task logged for its node run (an unsandboxed kernel, say), as the local engine records them."""
    logged = {e.get("event") for e in events}
    return [w for w in TASK_WARNINGS if WARNING_PREFIX + w in logged]


def log_error(events: list, ti) -> dict:
    """The error of a task that left none in XCom (Airflow's timeout, a crash): its exception."""
    for e in reversed(events):
        for err in e.get("error_detail") or []:
            frames = "".join(f'  File "{f.get("filename")}", line {f.get("lineno")}, in {f.get("name")}\n'
                             for f in err.get("frames") or [])
            return node_error(f"{err.get('exc_type')}: {err.get('exc_value')}",
                              traceback=f"Traceback (most recent call last):\n{frames}"
                                        f"{err.get('exc_type')}: {err.get('exc_value')}")
    return node_error(f"Task {ti.task_id} failed in Airflow (try {ti.try_number}); see its log.")
