"""What the tasks of a generated DAG do when they run. Runs inside Airflow, not in Loom.

Every DAG file carries this module's source verbatim (with backend/runtime's), and compiles
it the first time a task runs, so parsing a DAG file stays as cheap as parsing a
hand-written one. Standard library at import time; Airflow is imported only inside the
functions that need it, so Loom's tests import this module without Airflow. Loom's runtime
is passed in (`parameters`, the module runtime/parameters.py, `execute`, `connection_env`, and
`limits`, the module runtime/limits.py) because the DAG file loads it itself.

`nodes` is the DAG file's NODES and `settings` its SETTINGS (see dag_templates/dag.py.j2).
"""
import hashlib
import json
import os
import tempfile
from pathlib import Path, PurePosixPath

# A failed node's task pushes its error ({message, cell_index, cell_source, traceback}) under
# this XCom key before it fails, so that Loom shows the same error as on its local engine.
ERROR_XCOM_KEY = "loom_error"
# Loom lists a connection's secret `extra` keys (tenancy/kinds.py) under this key of the Airflow
# connection's extra, so the task scrubs their values too; the kernel never sees the list.
SECRET_KEYS_EXTRA = "loom_secret_keys"
# A line of the task's log starting with this is a warning its node run shows in Loom (the mirror
# reads it back: runs/engines/airflow/logs.py), such as runtime/sandbox.py's UNSANDBOXED_WARNING.
WARNING_PREFIX = "Loom warning: "
# A node's task writes its result here, in the node run's folder, once the notebook succeeded:
# {"outputs": the declared outputs, "warnings": what it logged with WARNING_PREFIX}. Loom's mirror
# reads it from the shared artifacts folder instead of asking Airflow for the log and the XCom
# (runs/engines/airflow/logs.py); the outputs stay the task's XCom too, which downstream tasks read.
RESULT_FILE = "loom-result.json"
# The DAG run conf key with {node: outputs} of the nodes that must not run (runs/reuse.py's REUSE_CONF).
REUSE_CONF = "__loom_reuse"
# The conf key with the run's dates when its DAG run cannot carry them (a repair's second DAG run;
# runs/engines/airflow/submit.py's DATES_CONF).
DATES_CONF = "__loom_dates"
# The one item map_items gives a fanned-out node whose outputs Loom gave (Airflow's UI shows it
# as the mapped task's argument).
GIVEN_ITEM = "loom: outputs given"


def map_items(nodes: dict, settings: dict, context, *, parameters) -> list:
    """The list a fanned-out node runs over: a workflow parameter or an upstream output."""
    node_id = context["ti"].task_id.removesuffix(settings["items_suffix"])
    node = nodes[node_id]
    given = given_outputs(context)
    if node_id in given:
        if given[node_id] is None:
            from airflow.exceptions import AirflowSkipException

            raise AirflowSkipException("Not part of this partial run.")
        # Loom gave the node's outputs (reused, or kept by a repair): one placeholder item, whose
        # task returns them without running the notebook. Not an empty list: Airflow skips a task
        # mapped over one, and with it everything downstream.
        print("Loom gave this node's outputs (reused): its items do not run.")
        return [GIVEN_ITEM]
    fan = parameters.fan_out(node["map_over"], node["map_parameter"])
    upstream = (upstream_outputs(nodes, settings, context["ti"], fan.node, parameters=parameters, given=given)
                if fan.node is not None else None)
    return parameters.fan_out_items(fan, upstream=upstream, **run_layers(context))


class ItemsFailed(Exception):
    """More items of a fanned-out node failed than it accepts."""


def items_check(nodes: dict, settings: dict, context, *, parameters) -> None:
    """Fail when more items of the fanned-out node failed than it accepts, so that its downstream
    tasks (which follow this one) run as if it succeeded only within the allowance."""
    node_id = context["ti"].task_id.removesuffix(settings["check_suffix"])
    if upstream_outputs(nodes, settings, context["ti"], node_id, parameters=parameters, given=given_outputs(context)) is None:
        raise ItemsFailed(f"More items of {node_id} failed than it accepts (or it has no list of items).")


class NodeRefused(Exception):
    """The node must not run (its message says why); no cell ran."""

    def as_dict(self) -> dict:
        return {"message": str(self), "cell_index": None, "cell_source": "", "traceback": ""}


class NotebookChanged(NodeRefused):
    """The notebook file is not the version the DAG pinned (its sha256 differs)."""


def node_run(nodes: dict, settings: dict, context, item=None, *, parameters, execute, connection_env, limits,
             kernel_for=None) -> dict:
    """Run the task's node: resolve its parameters, check its notebook is the pinned version, run
    it with its connections in the kernel's environment and the limits of this worker's
    environment and the tenant's (runtime/limits.py, the same rules as the local engine's), and
    return its declared outputs (the task's XCom), which it also writes, with its warnings, to
    RESULT_FILE in the node run's folder. A tenant over its artifacts quota fails the task before
    the notebook starts.

    `kernel_for(kernel name, view_at)` (runtime/sandbox.py's task_kernel) says how the kernel
    runs: sandboxed with LOOM_SANDBOX=on in the task's environment, where the node's memory_mb
    and max_procs (else the tenant's defaults) lower its limits; else from the notebook environment,
    with a warning the task logs (WARNING_PREFIX) for its node run to show."""
    ti = context["ti"]
    node = nodes[ti.task_id]
    given = given_outputs(context)
    if ti.task_id in given:
        if given[ti.task_id] is None:
            from airflow.exceptions import AirflowSkipException

            raise AirflowSkipException("Not part of this partial run.")
        # Reused, cached or kept by a repair (a fanned-out node: map_items' placeholder item):
        # Loom gave the outputs; the notebook does not run.
        print("Loom gave this node's outputs (reused or cached): the notebook does not run.")
        return given[ti.task_id]
    artifacts_root = setting(settings["artifacts_dir"], Path(tempfile.gettempdir()) / "loom-artifacts")
    # Each tenant's files under a root of its own, which Loom's mirror reads no further than.
    run_dir = artifacts_root / settings["tenant"] / settings["dag_id"] / ti.run_id
    output_dir = run_dir / ti.task_id
    if ti.map_index >= 0:
        output_dir = output_dir / str(ti.map_index)
    output_dir.mkdir(parents=True, exist_ok=True)
    # An earlier try's result goes: the folder holds this try's or none (the mirror then asks Airflow).
    (output_dir / RESULT_FILE).unlink(missing_ok=True)
    warnings = []
    fan = parameters.fan_out(node["map_over"], node["map_parameter"])
    resolved = parameters.node_parameters(
        node["parameters"],
        fan=fan,
        item=item,
        values=node["values"],
        edge=parameters.edge_layer(node["inputs"], lambda source: upstream_outputs(nodes, settings, ti, source,
                                                                                    parameters=parameters, given=given)),
        artifacts_dir=str(output_dir),
        dates=context_dates(context),
        **run_layers(context),
    )
    notebooks = setting(settings["notebooks_dir"], Path(context["dag"].fileloc).parent / "loom-notebooks")
    env, secrets = connections_environment(node["connections"], connection_env=connection_env)
    env.update({"LOOM_NODE": ti.task_id, "LOOM_MAP_INDEX": str(ti.map_index) if ti.map_index >= 0 else ""})
    # The tenant's own values, as the DAG was rendered (dags/rendering.py): deployed with it.
    own = settings.get("tenant_limits", {})
    platform = limits.limits_from_env(os.environ)
    # A node's own timeout_s is the task's execution_timeout, which Airflow enforces; others get a default.
    # Either way never more than this worker's LOOM_NODE_TIMEOUT_MAX_S (the local engine's rule): below
    # the execution_timeout, the notebook's own watchdog stops it first, naming that limit.
    own_s = None if context["task"].execution_timeout is None else context["task"].execution_timeout.total_seconds()
    timeout_s, node_limits = platform.timeout(own_s, own.get("node_timeout_s"))
    if own_s is not None and (timeout_s is None or timeout_s >= own_s):
        timeout_s = None  # Airflow's execution_timeout comes first
    try:
        if platform.tenant_bytes_max or own.get("artifacts_quota_mb"):
            # Measured by every task (Airflow's workers share no cache): the tenant's whole root.
            used = limits.folder_usage(artifacts_root / settings["tenant"])[1]
            problem = limits.tenant_quota_problem(tenant=settings["tenant"], used=used, own_mb=own.get("artifacts_quota_mb"),
                                                  platform_bytes=platform.tenant_bytes_max)
            if problem:
                raise NodeRefused(problem)
        notebook = notebook_verified(notebooks, node["notebook"])
        kernel = notebook.metadata.get("kernelspec", {}).get("name") or "python3"
        runs_in = kernel_for(kernel, run_dir) if kernel_for is not None else {}
        if warning := runs_in.pop("warning", None):  # to the log before a cell runs: shown even if it fails
            print(WARNING_PREFIX + warning, flush=True)
            warnings.append(warning)
        if "kernel_manager" in runs_in:  # sandboxed: the node's and the tenant's limits lower the platform's
            node_limits = node_limits.kernel(node=node, tenant=own, platform=runs_in["kernel_manager"].sandbox.config)
        result = execute(
            **runs_in,
            notebook=notebook,
            output_path=output_dir / Path(node["notebook"]).name,
            parameters={name: r.value for name, r in resolved.items()},
            outputs=node["outputs"],
            cwd=output_dir,
            env=env,
            secrets=secrets,
            timeout_s=timeout_s,
            limits=node_limits,
            # To the task's log as it is printed, which Loom reads while the task runs (live logs).
            on_stream=lambda cell, name, line: print(f"[cell {cell} {name}] {line}", flush=True),
        )
    except Exception as e:
        # NotebookFailed of the DAG's own copy of runtime/execute.py (so known by its method, not its class).
        if callable(getattr(e, "as_dict", None)):
            ti.xcom_push(key=ERROR_XCOM_KEY, value=e.as_dict())
        raise
    # The kernel has stopped: nothing of the notebook's writes here after this.
    result_write(output_dir, {"outputs": result.outputs, "warnings": warnings})
    return result.outputs


def result_write(output_dir: Path, result: dict) -> None:
    """Write RESULT_FILE atomically: a temporary file in the same folder, then os.replace, which
    replaces whatever the notebook left at that name (a forged file; a symlink, not followed).
    A failure fails the task: the mirror must never take another file for this try's result."""
    fd, tmp = tempfile.mkstemp(dir=output_dir, prefix=".loom-result-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(tmp, output_dir / RESULT_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def notebook_verified(notebooks: Path, relpath: str):
    """The pinned notebook, parsed from the bytes whose sha256 was checked: the file lives at
    `<tenant>/<sha256>/<name>` (dags/naming.py), and anything else there fails the task."""
    import nbformat

    path = notebooks / relpath
    data = path.read_bytes()
    pinned = PurePosixPath(relpath).parent.name
    actual = hashlib.sha256(data).hexdigest()
    if actual != pinned:
        raise NotebookChanged(f"Notebook {relpath} was changed after Loom deployed it: its sha256 is {actual}, "
                              f"the pinned version's is {pinned}. Deploy the workflow again to restore it.")
    return nbformat.reads(data.decode("utf-8"), as_version=4)


def run_layers(context) -> dict:
    """The run's conf (overrides) and params (workflow parameters, conf already applied)."""
    return {"overrides": dict(context["dag_run"].conf or {}), "globals": dict(context["params"])}


def context_dates(context) -> dict:
    """The DAG run's logical date and data interval (ISO 8601), from the task's context, for
    notebooks that declare parameters of these names; a manual run without one: its run_after."""
    dag_run = context["dag_run"]
    if given := (dag_run.conf or {}).get(DATES_CONF):
        return dict(given)
    when = dag_run.logical_date or dag_run.run_after
    dates = {"logical_date": when, "data_interval_start": dag_run.data_interval_start or when,
             "data_interval_end": dag_run.data_interval_end or when}
    return {name: value.isoformat() for name, value in dates.items() if value is not None}


def given_outputs(context) -> dict:
    """{node: outputs} that Loom gave in the DAG run's conf (REUSE_CONF): the nodes that do not run;
    None for a node that is not part of a partial run."""
    return (context["dag_run"].conf or {}).get(REUSE_CONF) or {}


def upstream_outputs(nodes: dict, settings: dict, ti, source: str, *, parameters, given: dict) -> dict | None:
    """An upstream node's outputs, or None if it has none (it failed, say): those Loom gave
    (`given`, from given_outputs), else its XCom. A fanned-out node's are those of
    runtime/parameters.py's fan_in, None when more items failed than it accepts; Loom gives them
    as they were fanned in (its items did not run in this DAG run)."""
    if source in given:
        return given[source]
    if not nodes[source]["map_over"]:
        outputs = ti.xcom_pull(task_ids=source)
        return outputs if isinstance(outputs, dict) else None
    items = ti.xcom_pull(task_ids=source + settings["items_suffix"])
    if not isinstance(items, list):
        return None
    # Explicit map indexes keep item order and leave a None where an item has no result.
    results = ti.xcom_pull(task_ids=source, map_indexes=list(range(len(items)))) if items else []
    results = [r if isinstance(r, dict) else None for r in results]
    if sum(r is None for r in results) > parameters.failures_allowed(nodes[source], len(items)):
        return None
    return parameters.fan_in(nodes[source]["outputs"], list(zip(items, results)))


def setting(names: list, default: Path) -> Path:
    """A directory set where the task runs: the environment variable, else the Airflow Variable."""
    env_var, variable = names
    value = os.environ.get(env_var)
    if not value:
        from airflow.sdk import Variable

        value = Variable.get(variable, default=None)
    return Path(value or default)


def connections_environment(connections: dict, *, connection_env) -> tuple[dict, list]:
    """The kernel variables of the node's connections, fetched from Airflow now, and their secrets.

    `connections` maps each connection's name in Loom to its Airflow connection id;
    `connection_env` is runtime/execute.py's, so the kernel sees the same LOOM_CONN_<NAME>_*
    variables as on Loom's local engine. The secrets are scrubbed from the executed notebook.
    """
    if not connections:
        return {}, []
    from airflow.sdk import Connection

    env, secrets = {}, []
    for name, conn_id in connections.items():
        conn = Connection.get(conn_id)
        extra = dict(conn.extra_dejson)
        secret_keys = extra.pop(SECRET_KEYS_EXTRA, [])
        env.update(connection_env(name, kind=conn.conn_type or "", host=conn.host or "", port=conn.port,
                                  login=conn.login or "", password=conn.password or "", schema=conn.schema or "",
                                  extra=extra))
        secrets += [conn.password or "", *(str(extra[k]) for k in secret_keys if k in extra)]
    return env, secrets
