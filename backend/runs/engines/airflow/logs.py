"""What a finished task instance left: its result (outputs and warnings), its executed notebook
and, for a task that failed (or left no readable result), its log (parsed from Airflow's
structured events), its outputs or error (XCom; for a crash or a timeout, the exception in its
log) and the warnings its node run shows (from its log).

A node's task writes its result to RESULT_FILE beside its executed notebook, in
LOOM_AIRFLOW_ARTIFACTS_DIR (dags/airflow_tasks.py): a successful task that left one costs the
mirror no request (its log is read from Airflow when someone asks for it: live.py). Without one
(an older DAG, an artifacts folder Airflow's workers do not share with Loom, a malformed file),
Airflow is asked for the log and the XCom, as for a failed task."""
import json
import logging
from pathlib import Path

from dags import naming
from dags.airflow_tasks import ERROR_XCOM_KEY, RESULT_FILE, WARNING_PREFIX
from deployments.client import AirflowError
from runs.artifacts import task_file_read
from runs.bookkeeping import node_error
from runs.models import Status
from runtime.sandbox import UNSANDBOXED_WARNING

log = logging.getLogger(__name__)
# The warnings a task may log (dags/airflow_tasks.py's WARNING_PREFIX): only these, word for word,
# so that what a notebook prints cannot put other text among its node run's warnings.
TASK_WARNINGS = (UNSANDBOXED_WARNING,)


def finished_details(client, run, dag_id: str, ti, status: str, nodes: dict) -> dict:
    """{log, warnings, outputs (success) or error (failure), notebook (when written)} of a finished
    task; without `log` for a successful node task whose result file answered."""
    items_task = ti.task_id.endswith(naming.ITEMS_SUFFIX)
    node_task = not items_task and ti.task_id in nodes and (ti.try_number or 0) > 0
    detail = {}
    if node_task:
        executed = _task_file(run, dag_id, ti, Path(nodes[ti.task_id]["notebook"]).name)
        if executed is not None:
            detail["notebook"] = executed
    if status == Status.SUCCESS and node_task:
        result = _task_result(_task_file(run, dag_id, ti, RESULT_FILE), ti)
        if result is not None:
            return {**detail, **result}
    if status != Status.SUCCESS and not ti.hostname:
        # No worker ever took it (failed or skipped with its DAG run, which also stamps its start
        # and end): no log or error to ask Airflow for, which for the thousands of items of a
        # stopped fan-out would be thousands of requests.
        return {**detail, "log": "", "warnings": [], **({"error": node_error(
            f"Task {ti.task_id} failed in Airflow before it started (its DAG run ended first).")}
            if status == Status.FAILED else {})}
    logged = log_read(client, dag_id, run.external_id, ti)
    detail.update(log=logged["text"], warnings=log_warnings(logged["events"]))
    if status == Status.SUCCESS and not items_task:
        detail["outputs"] = _xcom(client, dag_id, run.external_id, ti, "return_value") or {}
    if status == Status.FAILED:
        error = None if items_task else _xcom(client, dag_id, run.external_id, ti, ERROR_XCOM_KEY)
        detail["error"] = error if isinstance(error, dict) else log_error(logged["events"], ti)
    return detail


def _task_file(run, dag_id: str, ti, name: str) -> str | None:
    """A file the task left in its node run's folder (runs.artifacts: never through a symlink)."""
    index = [str(ti.map_index)] if ti.map_index >= 0 else []
    return task_file_read(tenant=run.tenant.slug, parts=[dag_id, run.external_id, ti.task_id, *index, name])


def _task_result(text: str | None, ti) -> dict | None:
    """{outputs, warnings} from the text of a task's RESULT_FILE; None when there is none or it is
    not what the task writes (then Airflow is asked)."""
    if text is None:
        return None
    try:
        result = json.loads(text, parse_constant=_not_json)
    except ValueError:
        result = None
    if not (isinstance(result, dict) and isinstance(result.get("outputs"), dict)
            and isinstance(result.get("warnings"), list)):
        log.warning("%s of %s[%s] in %s is malformed; asking Airflow instead", RESULT_FILE, ti.task_id,
                    ti.map_index, ti.dag_run_id)
        return None
    return {"outputs": result["outputs"], "warnings": known_warnings(result["warnings"])}


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")  # NaN, Infinity: Python's json reads them, a database does not


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
    """The task's log for its last try, as text, and its structured events (for the error); `read`
    is False when Airflow answered with an error (the text says which)."""
    if not ti.try_number:
        return {"text": "", "events": [], "read": True}
    response = client.task_instances.get_log_without_preload_content(
        dag_id, run_id, ti.task_id, ti.try_number, full_content=True, map_index=ti.map_index, accept="application/json")
    if response.status != 200:
        return {"text": f"(Airflow answered {response.status} for the log)", "events": [], "read": False}
    try:
        events = json.loads(response.data).get("content") or []
    except ValueError:
        return {"text": response.data.decode("utf-8", "replace"), "events": [], "read": True}
    events = [e if isinstance(e, dict) else {"event": str(e)} for e in events]
    lines = []
    for e in events:
        stamp = e.get("timestamp", "")
        prefix = f"[{stamp[11:19]}] {e.get('level', '').upper():7} " if stamp else ""
        lines.append(f"{prefix}{e.get('event', '')}")
        for err in e.get("error_detail") or []:
            lines.append(f"    {err.get('exc_type')}: {err.get('exc_value')}")
    return {"text": "\n".join(lines) + "\n", "events": events, "read": True}


def log_warnings(events: list) -> list[str]:
    """The warnings a task logged for its node run (an unsandboxed kernel, say), as the local engine records them."""
    return known_warnings(e["event"].removeprefix(WARNING_PREFIX) for e in events
                          if isinstance(e.get("event"), str) and e["event"].startswith(WARNING_PREFIX))


def known_warnings(given) -> list[str]:
    """Of the warnings a task gave, those of TASK_WARNINGS (word for word), in their order."""
    given = {w for w in given if isinstance(w, str)}
    return [w for w in TASK_WARNINGS if w in given]


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
