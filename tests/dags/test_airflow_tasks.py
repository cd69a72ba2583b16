"""dags/airflow_tasks.py without Airflow: a fake task instance stands in for Airflow's.

The real thing runs in test_airflow.py; these pin down the edge cases cheaply."""
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import nbformat
import pytest

from dags import airflow_tasks
from helpers import notebook_bytes
from runtime import limits, parameters
from runtime.execute import NotebookFailed, connection_env

SETTINGS = {"dag_id": "loom__acme__1", "tenant": "acme", "items_suffix": "-items", "notebooks_dir": ["LOOM_T_NB", "nb"],
            "artifacts_dir": ["LOOM_T_ART", "art"]}
NODES = {
    "plain": {"map_over": None, "map_parameter": None, "outputs": ["a"]},
    "fan": {"map_over": "accounts", "map_parameter": "account", "outputs": ["a", "b"]},
    "each": {"map_over": "plain.a", "map_parameter": None, "outputs": []},
}


class FakeTI:
    """Answers xcom_pull the way Airflow 3.3's task instance does for these calls."""

    def __init__(self, xcoms: dict, task_id="t", map_index=-1):
        self.xcoms, self.task_id, self.map_index, self.run_id = xcoms, task_id, map_index, "manual__1"
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value

    def xcom_pull(self, task_ids, map_indexes=None):
        if map_indexes is None:
            return self.xcoms.get(task_ids)
        return [self.xcoms.get((task_ids, i)) for i in map_indexes]


def pin(notebooks, content: bytes = notebook_bytes("x = 1", "y = x")) -> str:
    """Deploy a notebook as Loom does, at <tenant>/<sha256>/<name>; its relative path."""
    relpath = f"acme/{hashlib.sha256(content).hexdigest()}/nb.ipynb"
    (notebooks / relpath).parent.mkdir(parents=True)
    (notebooks / relpath).write_bytes(content)
    return relpath


def dag_run(conf: dict) -> SimpleNamespace:
    """What a task's context holds of a manual DAG run: its conf, and no logical date (Airflow 3)."""
    return SimpleNamespace(conf=conf, logical_date=None, run_after=datetime(2026, 11, 30, tzinfo=timezone.utc),
                           data_interval_start=None, data_interval_end=None)


def test_a_fanned_out_node_that_accepts_failed_items_gives_the_successful_items_with_their_values():
    ti = FakeTI({"fan-items": ["x", "y", "z"], ("fan", 0): {"a": 1, "b": 2}, ("fan", 2): {"a": 3, "b": 4}})
    # No allowance: one failed item fails the node, as on the local engine (runs.bookkeeping).
    assert airflow_tasks.upstream_outputs(NODES, SETTINGS, ti, "fan", parameters=parameters, given={}) is None
    tolerant = {**NODES, "fan": {**NODES["fan"], "max_failed_items": 1}}
    assert airflow_tasks.upstream_outputs(tolerant, SETTINGS, ti, "fan", parameters=parameters, given={}) == {
        "a": [1, 3], "b": [2, 4], "map_items": ["x", "z"]}
    # The check task after the node passes within the allowance and fails beyond it.
    context = {"ti": FakeTI(ti.xcoms, task_id="fan-check"), "dag_run": dag_run({})}
    airflow_tasks.items_check(tolerant, {**SETTINGS, "check_suffix": "-check"}, context, parameters=parameters)
    ratio = {**NODES, "fan": {**NODES["fan"], "max_failed_ratio": 0.2}}  # 20% of 3 items: none
    with pytest.raises(airflow_tasks.ItemsFailed, match="More items of fan failed than it accepts"):
        airflow_tasks.items_check(ratio, {**SETTINGS, "check_suffix": "-check"}, context, parameters=parameters)


def test_a_failed_upstream_has_no_outputs():
    # Airflow answers [] (not None) for a task that pushed nothing.
    assert airflow_tasks.upstream_outputs(NODES, SETTINGS, FakeTI({"plain": []}), "plain", parameters=parameters, given={}) is None
    assert airflow_tasks.upstream_outputs(NODES, SETTINGS, FakeTI({}), "fan", parameters=parameters, given={}) is None


def test_a_fanned_out_node_loom_gave_outputs_for_runs_no_notebook_and_downstream_reads_them_from_the_conf(
        tmp_path, monkeypatch):
    """A partial run reusing a fanned-out node (or a repair keeping it) on Airflow: the conf gives
    its outputs as the local engine's downstream receives them (fanned in), its items do not run."""
    fanned_in = {"a": [1, 3], "b": [2, 4], "map_items": ["x", "z"]}
    given = {airflow_tasks.REUSE_CONF: {"fan": fanned_in}, "accounts": ["q"]}
    settings = {**SETTINGS, "check_suffix": "-check"}
    # One placeholder item, not the list (an empty one would skip the node and all below it).
    context = {"ti": FakeTI({}, task_id="fan-items"), "dag_run": dag_run(given), "params": {"accounts": ["a", "b"]}}
    assert airflow_tasks.map_items(NODES, settings, context, parameters=parameters) == [airflow_tasks.GIVEN_ITEM]

    def execute(**kwargs):
        raise AssertionError("a node whose outputs Loom gave must not run its notebook")

    context = {"ti": FakeTI({}, task_id="fan", map_index=0), "dag_run": dag_run(given), "params": {}}
    assert airflow_tasks.node_run(NODES, settings, context, airflow_tasks.GIVEN_ITEM, parameters=parameters,
                                  execute=execute, connection_env=connection_env, limits=limits) == fanned_in
    # No XCom of its items in this DAG run: the conf answers, for the allowance check and downstream.
    context = {"ti": FakeTI({}, task_id="fan-check"), "dag_run": dag_run(given)}
    airflow_tasks.items_check({**NODES, "fan": {**NODES["fan"], "max_failed_items": 0}}, settings, context,
                              parameters=parameters)
    assert airflow_tasks.upstream_outputs(NODES, settings, FakeTI({}), "fan", parameters=parameters,
                                          given=airflow_tasks.given_outputs(context)) == fanned_in
    nodes = {**NODES, "each": {**NODES["each"], "map_over": "fan.a"}}
    context = {"ti": FakeTI({}, task_id="each-items"), "dag_run": dag_run(given), "params": {}}
    assert airflow_tasks.map_items(nodes, settings, context, parameters=parameters) == [1, 3]
    # A plain node below it gets the bound output from the conf too, and runs.
    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    nodes = {**NODES, "down": {**NODES["plain"], "notebook": pin(tmp_path / "nb"), "parameters": ["x"], "values": {},
                               "inputs": {"fan": {"b": "x"}}, "connections": {}}}
    seen = {}
    context = {"ti": FakeTI({}, task_id="down"), "dag_run": dag_run(given), "params": {},
               "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")), "task": SimpleNamespace(execution_timeout=None)}
    assert airflow_tasks.node_run(nodes, settings, context, parameters=parameters, connection_env=connection_env,
                                  limits=limits, execute=lambda **kw: seen.update(kw) or SimpleNamespace(outputs={"a": 6})) == {"a": 6}
    assert seen["parameters"] == {"x": [2, 4]}


def test_items_come_from_conf_before_params_and_must_be_a_list():
    context = {"ti": FakeTI({}, task_id="fan-items"), "dag_run": dag_run({"accounts": ["c"]}),
               "params": {"accounts": ["a", "b"]}}
    assert airflow_tasks.map_items(NODES, SETTINGS, context, parameters=parameters) == ["c"]
    context["dag_run"].conf = {}
    assert airflow_tasks.map_items(NODES, SETTINGS, context, parameters=parameters) == ["a", "b"]
    context["dag_run"].conf = {"accounts": "acme"}
    # The same message as the local engine gives (runtime.parameters.fan_out_items).
    with pytest.raises(TypeError, match="^map_over 'accounts' is str, not a list.$"):
        airflow_tasks.map_items(NODES, SETTINGS, context, parameters=parameters)


def test_items_of_an_upstream_output_need_an_upstream_that_succeeded():
    context = {"ti": FakeTI({"plain": {"a": [1, 2]}}, task_id="each-items"), "dag_run": dag_run({}),
               "params": {}}
    assert airflow_tasks.map_items(NODES, SETTINGS, context, parameters=parameters) == [1, 2]
    context["ti"] = FakeTI({"plain": []}, task_id="each-items")
    with pytest.raises(TypeError, match="^map_over 'plain.a': 'plain' did not succeed, so there is no list to map over.$"):
        airflow_tasks.map_items(NODES, SETTINGS, context, parameters=parameters)


def test_node_run_resolves_layers_and_gives_the_kernel_its_connections(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    fetched = {"loom__acme__db": SimpleNamespace(conn_type="postgres", host="h", port=5432, login="u", password="p",
                                                 schema="d", extra_dejson={"sslmode": "require"})}
    monkeypatch.setattr(airflow_tasks, "connections_environment", lambda connections, connection_env: (
        connection_env("db", **_fields(fetched[connections["db"]])), ["p"]))
    relpath = pin(tmp_path / "nb")
    nodes = {"fan": {**NODES["fan"], "notebook": relpath, "parameters": ["account", "x", "artifacts_dir", "g"],
                     "values": {"x": 1}, "inputs": {"plain": {"a": "x"}}, "connections": {"db": "loom__acme__db"}},
             "plain": NODES["plain"]}
    seen = {}

    def execute(**kwargs):
        seen.update(kwargs)
        return SimpleNamespace(outputs={"a": 1, "b": 2})

    ti = FakeTI({"plain": {"a": 99}}, task_id="fan", map_index=1)
    context = {"ti": ti, "dag_run": dag_run({"g": "{{ ds }}"}), "params": {"g": "global", "x": 5},
               "dag": SimpleNamespace(fileloc=str(tmp_path / "dags" / "d.py")),
               "task": SimpleNamespace(execution_timeout=None)}
    assert airflow_tasks.node_run(nodes, SETTINGS, context, "acme", parameters=parameters, execute=execute,
                                  connection_env=connection_env, limits=limits) == {"a": 1, "b": 2}
    # The tenant's own root, then the DAG's folders.
    out = tmp_path / "art" / "acme" / "loom__acme__1" / "manual__1" / "fan" / "1"
    assert seen["parameters"] == {"account": "acme", "x": 1, "artifacts_dir": str(out), "g": "{{ ds }}"}
    assert seen["notebook"] == nbformat.read(tmp_path / "nb" / relpath, as_version=4)
    # No timeout_s on the node: this worker's default, named; the limits of its environment.
    assert seen["timeout_s"] == 3600 and seen["limits"].timeout_source.startswith("LOOM_NODE_TIMEOUT_S")
    assert seen["limits"].output_max_bytes == limits.DEFAULTS["output_max_bytes"]
    assert seen["output_path"] == out / "nb.ipynb" and out.is_dir()
    # The same variables as the local engine gives, through notebook_execute's env; the secret is scrubbed.
    assert seen["env"] == {**connection_env("db", kind="postgres", host="h", port=5432, login="u", password="p",
                                            schema="d", extra={"sslmode": "require"}),
                           "LOOM_NODE": "fan", "LOOM_MAP_INDEX": "1"}
    assert seen["env"]["LOOM_CONN_DB_URI"] == "postgres://u:p@h:5432/d"
    assert seen["secrets"] == ["p"]
    assert not any(k.startswith("LOOM_CONN") for k in os.environ)


def _fields(conn) -> dict:
    return {"kind": conn.conn_type, "host": conn.host, "port": conn.port, "login": conn.login,
            "password": conn.password, "schema": conn.schema, "extra": conn.extra_dejson}


def test_a_failed_notebook_leaves_its_error_in_xcom(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    nodes = {"plain": {**NODES["plain"], "notebook": pin(tmp_path / "nb"), "parameters": [], "values": {}, "inputs": {},
                       "connections": {}}}
    error = NotebookFailed("Cell 1 raised ValueError: no", cell_index=1, cell_source="raise ValueError('no')")

    def execute(**kwargs):
        raise error

    ti = FakeTI({}, task_id="plain")
    context = {"ti": ti, "dag_run": dag_run({}), "params": {},
               "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")),
               "task": SimpleNamespace(execution_timeout=timedelta(seconds=30))}
    with pytest.raises(NotebookFailed):
        airflow_tasks.node_run(nodes, SETTINGS, context, parameters=parameters, execute=execute,
                               connection_env=connection_env, limits=limits)
    assert ti.pushed == {airflow_tasks.ERROR_XCOM_KEY: error.as_dict()}


def test_a_changed_notebook_fails_the_task_before_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    relpath = pin(tmp_path / "nb")
    tampered = notebook_bytes("x = 1", "import os; y = os.environ")
    (tmp_path / "nb" / relpath).write_bytes(tampered)
    nodes = {"plain": {**NODES["plain"], "notebook": relpath, "parameters": [], "values": {}, "inputs": {},
                       "connections": {}}}
    ran = []
    ti = FakeTI({}, task_id="plain")
    context = {"ti": ti, "dag_run": dag_run({}), "params": {},
               "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")), "task": SimpleNamespace(execution_timeout=None)}
    with pytest.raises(airflow_tasks.NotebookChanged) as changed:
        airflow_tasks.node_run(nodes, SETTINGS, context, parameters=parameters, execute=lambda **kw: ran.append(kw),
                               connection_env=connection_env, limits=limits)
    assert str(changed.value) == (
        f"Notebook {relpath} was changed after Loom deployed it: its sha256 is {hashlib.sha256(tampered).hexdigest()}, "
        f"the pinned version's is {relpath.split('/')[1]}. Deploy the workflow again to restore it.")
    assert ran == [] and ti.pushed[airflow_tasks.ERROR_XCOM_KEY]["message"] == str(changed.value)


def test_a_tenant_over_its_artifacts_quota_cannot_start_tasks(tmp_path, monkeypatch):
    """The local engine's rule (runtime/limits.py): the tenant's own quota, as the DAG carries it,
    or the Airflow worker's LOOM_TENANT_ARTIFACTS_MAX_MB, over the tenant's whole root."""
    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    old = tmp_path / "art" / "acme" / "loom__acme__9" / "manual__0" / "n" / "data"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x" * 1_500_000)
    nodes = {"plain": {**NODES["plain"], "notebook": pin(tmp_path / "nb"), "parameters": [], "values": {}, "inputs": {},
                       "connections": {}}}
    ran = []

    def task(settings):
        ti = FakeTI({}, task_id="plain")
        context = {"ti": ti, "dag_run": dag_run({}), "params": {},
                   "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")), "task": SimpleNamespace(execution_timeout=None)}
        try:
            return airflow_tasks.node_run(nodes, settings, context, parameters=parameters, connection_env=connection_env,
                                          limits=limits, execute=lambda **kw: ran.append(kw) or SimpleNamespace(outputs={}))
        finally:
            task.pushed = ti.pushed

    with pytest.raises(airflow_tasks.NodeRefused) as refused:
        task({**SETTINGS, "tenant_limits": {"artifacts_quota_mb": 1}})
    assert str(refused.value) == ("Tenant 'acme' has 1.5 MB of artifacts; the limit is 1 MB (the tenant's "
                                  "artifacts_quota_mb). Delete old runs' artifacts, or ask an admin for more room.")
    assert ran == [] and task.pushed[airflow_tasks.ERROR_XCOM_KEY]["message"] == str(refused.value)
    monkeypatch.setenv("LOOM_TENANT_ARTIFACTS_MAX_MB", "1")
    with pytest.raises(airflow_tasks.NodeRefused, match=r"the limit is 1 MB \(LOOM_TENANT_ARTIFACTS_MAX_MB\)"):
        task(SETTINGS)
    monkeypatch.setenv("LOOM_TENANT_ARTIFACTS_MAX_MB", "2")
    assert task(SETTINGS) == {} and len(ran) == 1


def test_with_loom_sandbox_on_the_task_runs_its_notebook_sandboxed(tmp_path, monkeypatch):
    """The DAG's own copy of runtime/sandbox.py is this module; a real sandboxed kernel runs the
    notebook: it writes its folder, reads its upstream's, and sees nothing else of the host."""
    from runtime import execute as runtime
    from runtime.sandbox import task_kernel

    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    monkeypatch.setenv("LOOM_SANDBOX", "on")
    monkeypatch.setenv("LOOM_SANDBOX_NETWORK", "none")
    run_dir = tmp_path / "art" / "acme" / "loom__acme__1" / "manual__1"
    upstream = run_dir / "up" / "rows.txt"
    upstream.parent.mkdir(parents=True)
    upstream.write_text("3")
    (tmp_path / "secret.txt").write_text("host file")
    relpath = pin(tmp_path / "nb", notebook_bytes(
        "artifacts_dir = '.'", "import os\nopen(os.path.join(artifacts_dir, 'out.txt'), 'w').write('written')\n"
        f"a = int(open({str(upstream)!r}).read())\nb = os.path.exists({str(tmp_path / 'secret.txt')!r})\n"
        "import resource\nc = [resource.getrlimit(r)[1] for r in (resource.RLIMIT_DATA, resource.RLIMIT_NPROC)]"))
    nodes = {"plain": {**NODES["plain"], "outputs": ["a", "b", "c"], "notebook": relpath, "memory_mb": 700,
                       "parameters": ["artifacts_dir"], "values": {}, "inputs": {}, "connections": {}}}
    context = {"ti": FakeTI({}, task_id="plain"), "dag_run": dag_run({}), "params": {},
               "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")), "task": SimpleNamespace(execution_timeout=None)}
    outputs = airflow_tasks.node_run(
        nodes, {**SETTINGS, "tenant_limits": {"node_memory_mb": 600, "node_max_procs": 40}}, context,
        parameters=parameters, execute=runtime.notebook_execute,
        connection_env=connection_env, limits=limits,
        kernel_for=lambda name, view_at: task_kernel(name, view_at=view_at, kernel_manager=runtime.kernel_manager))
    # The node's memory_mb, and the tenant's max_procs for a node without its own.
    assert outputs == {"a": 3, "b": False, "c": [700 << 20, 40]}
    assert (run_dir / "plain" / "out.txt").read_text() == "written"


def test_a_dag_run_without_a_logical_date_takes_the_runs_dates_from_its_conf():
    """A repaired run's second DAG run cannot hold the logical date (the first one does): the conf carries it."""
    dates = {"logical_date": "2026-11-01T00:00:00+00:00", "data_interval_start": "2026-10-31T00:00:00+00:00",
             "data_interval_end": "2026-11-01T00:00:00+00:00"}
    assert airflow_tasks.context_dates({"dag_run": dag_run({airflow_tasks.DATES_CONF: dates})}) == dates
    now = "2026-11-30T00:00:00+00:00"
    assert airflow_tasks.context_dates({"dag_run": dag_run({})}) == {
        "logical_date": now, "data_interval_start": now, "data_interval_end": now}


def _task(tmp_path, monkeypatch, notebook: bytes, *, outputs=(), connections=None, execution_timeout=None):
    """A task of node `plain` running `notebook` for real (runtime/execute.py, its kernel as the DAG
    file's run_node chooses it: runtime/sandbox.py's task_kernel); (run it, its task instance)."""
    from runtime import execute as runtime
    from runtime.sandbox import task_kernel

    monkeypatch.setenv("LOOM_T_NB", str(tmp_path / "nb"))
    monkeypatch.setenv("LOOM_T_ART", str(tmp_path / "art"))
    nodes = {"plain": {**NODES["plain"], "outputs": list(outputs), "notebook": pin(tmp_path / "nb", notebook),
                       "parameters": [], "values": {}, "inputs": {}, "connections": connections or {}}}
    ti = FakeTI({}, task_id="plain")
    context = {"ti": ti, "dag_run": dag_run({}), "params": {}, "dag": SimpleNamespace(fileloc=str(tmp_path / "d.py")),
               "task": SimpleNamespace(execution_timeout=execution_timeout)}
    return lambda: airflow_tasks.node_run(
        nodes, SETTINGS, context, parameters=parameters, execute=runtime.notebook_execute,
        connection_env=connection_env, limits=limits,
        kernel_for=lambda name, view_at: task_kernel(name, view_at=view_at, kernel_manager=runtime.kernel_manager)), ti


class AirflowConnections:
    """Stands in for airflow.sdk (its Connection.get): the tenant's connections as Airflow holds them."""

    def __init__(self, **connections):
        self.connections, self.asked = connections, []
        self.Connection = SimpleNamespace(get=self.get)

    def get(self, conn_id):
        self.asked.append(conn_id)
        return self.connections[conn_id]


@pytest.mark.parametrize("sandbox", ["off", "on"])
def test_a_kernel_receives_only_the_connections_its_node_names(tmp_path, monkeypatch, sandbox):
    """The tenant has two connections in Airflow (here also in the Airflow worker's environment, as
    AIRFLOW_CONN_* variables, one way to configure them); the node names one. The kernel sees that
    one's LOOM_CONN_WAREHOUSE_* and nothing of the other, its secret included, sandboxed or not."""
    monkeypatch.setenv("LOOM_SANDBOX", sandbox)
    monkeypatch.setenv("LOOM_SANDBOX_NETWORK", "none")
    monkeypatch.setenv("AIRFLOW_CONN_LOOM__ACME__WAREHOUSE", "postgres://u:wh-pw-71@db:5432/sales")
    monkeypatch.setenv("AIRFLOW_CONN_LOOM__ACME__ARCHIVE", "s3://k:archive-pw-93@bucket")
    airflow = AirflowConnections(
        loom__acme__warehouse=SimpleNamespace(conn_type="postgres", host="db", port=5432, login="u",
                                              password="wh-pw-71", schema="sales", extra_dejson={}),
        loom__acme__archive=SimpleNamespace(conn_type="s3", host="bucket", port=None, login="k",
                                            password="archive-pw-93", schema="", extra_dejson={}))
    monkeypatch.setitem(sys.modules, "airflow", SimpleNamespace(sdk=airflow))
    monkeypatch.setitem(sys.modules, "airflow.sdk", airflow)
    run, _ = _task(tmp_path, monkeypatch, notebook_bytes(
        "x = 1", "import os\nnames = sorted(k for k in os.environ if k.startswith(('LOOM_CONN_', 'AIRFLOW_CONN_')))\n"
        "uri = os.environ['LOOM_CONN_WAREHOUSE_URI'].replace(os.environ['LOOM_CONN_WAREHOUSE_PASSWORD'], 'pw')\n"
        "leaked = sorted(k for k, v in os.environ.items() if 'archive' in (k + v).lower())"),
        outputs=["names", "uri", "leaked"], connections={"warehouse": "loom__acme__warehouse"})
    outputs = run()
    assert airflow.asked == ["loom__acme__warehouse"]  # the other one is never even fetched
    assert outputs == {"names": sorted(connection_env("warehouse")), "uri": "postgres://u:pw@db:5432/sales",
                       "leaked": []}


def test_a_nodes_own_timeout_is_capped_at_this_workers_maximum(tmp_path, monkeypatch):
    """The local engine's rule (runtime/limits.py): a node's timeout_s (the task's execution_timeout)
    never runs past LOOM_NODE_TIMEOUT_MAX_S of the Airflow worker; the error names that limit."""
    monkeypatch.setenv("LOOM_NODE_TIMEOUT_MAX_S", "2")
    run, ti = _task(tmp_path, monkeypatch, notebook_bytes("x = 1", "import time\ntime.sleep(60)"),
                    execution_timeout=timedelta(seconds=100))
    started = time.monotonic()
    with pytest.raises(NotebookFailed) as failed:
        run()
    assert time.monotonic() - started < 30
    assert failed.value.message == ("Timed out after 2 s while cell 2 ran (LOOM_NODE_TIMEOUT_MAX_S, the platform "
                                    "maximum; the node's timeout_s asked for 100 s); the kernel was stopped.")
    assert ti.pushed[airflow_tasks.ERROR_XCOM_KEY]["message"] == failed.value.message


def test_an_unsandboxed_task_logs_the_warning_its_node_run_shows(tmp_path, monkeypatch, capsys):
    """LOOM_SANDBOX off in the task's environment (Airflow's default): the task logs the local
    engine's warning, before the notebook runs; Loom's mirror reads it back from the log."""
    from runs.engines.airflow.logs import log_warnings
    from runtime.sandbox import UNSANDBOXED_WARNING

    monkeypatch.delenv("LOOM_SANDBOX", raising=False)
    run, _ = _task(tmp_path, monkeypatch, notebook_bytes("x = 1", "print('Loom warning: made up by the notebook')\n"
                                                                  "y = x + 1"), outputs=["y"])
    assert run() == {"y": 2}
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == airflow_tasks.WARNING_PREFIX + UNSANDBOXED_WARNING
    # The mirror's reading of the task's log (Airflow's events, one per printed line): the warning
    # the local engine records, and nothing a notebook prints.
    assert log_warnings([{"event": line, "logger": "task.stdout"} for line in printed]) == [UNSANDBOXED_WARNING]
    assert log_warnings([{"event": line} for line in printed[1:]]) == []
    monkeypatch.setenv("LOOM_SANDBOX", "on")
    monkeypatch.setenv("LOOM_SANDBOX_NETWORK", "none")
    run, _ = _task(tmp_path / "on", monkeypatch, notebook_bytes("x = 1", "y = x + 1"), outputs=["y"])
    assert run() == {"y": 2}
    assert airflow_tasks.WARNING_PREFIX not in capsys.readouterr().out  # sandboxed: nothing to warn about


def test_the_task_writes_its_result_for_the_mirror_over_whatever_the_notebook_left_there(tmp_path, monkeypatch):
    """RESULT_FILE, which Loom's mirror reads instead of asking Airflow: the outputs and the warnings,
    written once the kernel has stopped. A symlink the notebook planted at that name is replaced,
    not written through; a forged file is overwritten; an earlier try's result is gone before the
    next try's notebook starts."""
    from runtime.sandbox import UNSANDBOXED_WARNING

    monkeypatch.delenv("LOOM_SANDBOX", raising=False)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("not the task's to write")
    result = tmp_path / "art" / "acme" / "loom__acme__1" / "manual__1" / "plain" / airflow_tasks.RESULT_FILE
    run, _ = _task(tmp_path, monkeypatch, notebook_bytes(
        "x = 1", f"import os\nos.symlink({str(elsewhere)!r}, {airflow_tasks.RESULT_FILE!r})\ny = x + 1"), outputs=["y"])
    assert run() == {"y": 2}
    assert elsewhere.read_text() == "not the task's to write" and not result.is_symlink()
    assert json.loads(result.read_text()) == {"outputs": {"y": 2}, "warnings": [UNSANDBOXED_WARNING]}

    forged = {"outputs": {"stale": "forged"}, "warnings": ["made up"]}
    run, _ = _task(tmp_path, monkeypatch, notebook_bytes("x = 1", (
        f"import json, os\nstale = os.path.exists({airflow_tasks.RESULT_FILE!r})\n"
        f"json.dump({forged!r}, open({airflow_tasks.RESULT_FILE!r}, 'w'))")), outputs=["stale"])
    assert run() == {"stale": False}
    assert json.loads(result.read_text()) == {"outputs": {"stale": False}, "warnings": [UNSANDBOXED_WARNING]}
    assert sorted(p.name for p in result.parent.iterdir()) == [airflow_tasks.RESULT_FILE, "nb.ipynb"]  # no temporary file
