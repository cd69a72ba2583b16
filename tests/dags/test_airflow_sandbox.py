"""The sandbox on a real Airflow 3.3 (`airflow dags test`): with LOOM_SANDBOX=on in the task's
environment, a notebook cannot read Airflow's database or home, and a benign one runs and
writes its artifacts; without it (Airflow's default) a kernel still gets only its node's
connections, and the task warns that it ran unsandboxed. The sandbox's properties one by one:
tests/runtime/test_sandbox.py."""
import json
from pathlib import Path

import nbformat
import pytest

from catalog.inspection import notebook_read
from dags.airflow_tasks import WARNING_PREFIX
from dags.rendering import PinnedNotebook, dag_context, dag_render, runtime_sources
from helpers import notebook_bytes
from runtime.execute import connection_env
from runtime.sandbox import UNSANDBOXED_WARNING
from tests.dags.examples import TENANT, WAREHOUSE_URI
from workflows.graph import graph_normalize

pytestmark = pytest.mark.airflow
REPO = Path(__file__).resolve().parents[2]


def dag_test(airflow, graph: dict, notebooks: dict, *, workflow_id: int, env: dict):
    """Deploy `graph` (its notebooks {name: bytes}) as Loom would, run it with `airflow dags test`
    with `env` added to the task's environment, and remove it; (the result, the run's folder)."""
    pins = {}
    for name, data in notebooks.items():
        nb = notebook_read(data, max_bytes=10**6)
        pins[name] = PinnedNotebook(sha256=nb.sha256, parameters=tuple(p.name for p in nb.parameters))
        path = airflow.notebooks / TENANT / nb.sha256 / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nb.content, encoding="utf-8")
    context = dag_context(graph=graph_normalize(graph), tenant=TENANT, workflow_id=workflow_id, version=1, notebooks=pins,
                          runtime=runtime_sources())
    dag_file = airflow.dags / f"{context['dag_id']}.py"
    dag_file.write_text(dag_render(context), encoding="utf-8")
    try:
        return airflow.dags_test(context["dag_id"], env=env)
    finally:
        dag_file.unlink()


def test_a_sandboxed_task_cannot_read_airflows_files_and_a_benign_one_runs(airflow):
    home = Path(airflow.env["AIRFLOW_HOME"])
    database = home / "airflow.db"
    assert database.is_file()
    notebooks = {
        "peek.ipynb": notebook_bytes("x = 1", f"data = open({str(database)!r}, 'rb').read()"),
        "fine.ipynb": notebook_bytes(
            "artifacts_dir = '.'", "import os, numpy\nopen(os.path.join(artifacts_dir, 'out.txt'), 'w').write('ok')\n"
            f"y = int(numpy.int64(41) + 1)\nhome_seen = os.path.exists({str(home)!r})"),
    }
    graph = {"name": "Sandboxed", "nodes": [{"id": "peek", "notebook": "peek.ipynb"},
                                            {"id": "fine", "notebook": "fine.ipynb", "outputs": ["y", "home_seen"]}]}
    sandboxed = {"LOOM_SANDBOX": "on", "LOOM_SANDBOX_NETWORK": "none", "LOOM_NOTEBOOK_ENV": str(REPO / ".venv-notebook")}
    done, run = dag_test(airflow, graph, notebooks, workflow_id=900, env=sandboxed)
    assert WARNING_PREFIX not in done.stdout + done.stderr  # sandboxed: nothing to warn about
    peek = nbformat.read(run / "peek" / "peek.ipynb", as_version=4)
    errors = [o for c in peek.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e.ename for e in errors] == ["FileNotFoundError"], json.dumps(errors)[:2000]
    assert str(database) in errors[0].evalue
    assert airflow.outputs(run, "fine") == {"y": 42, "home_seen": False}
    assert (run / "fine" / "out.txt").read_text() == "ok"
    assert done.returncode != 0  # the DAG run failed: peek failed, as it should


def test_a_kernel_receives_only_the_connections_its_node_names_and_unsandboxed_says_so(airflow):
    """Unsandboxed (Airflow's default), on an Airflow that holds tenant acme's two connections as
    AIRFLOW_CONN_* variables: the node names `archive`, and its kernel sees nothing of `warehouse`,
    whose secret is in the task's own environment. The task logs the unsandboxed warning."""
    secret = WAREHOUSE_URI.split(":")[2].split("@")[0]
    assert secret in airflow.env["AIRFLOW_CONN_LOOM__ACME__WAREHOUSE"]
    notebooks = {"conns.ipynb": notebook_bytes("x = 1", (
        "import os\nnames = sorted(k for k in os.environ if 'CONN' in k)\n"
        "host = os.environ['LOOM_CONN_ARCHIVE_HOST']\n"
        f"leaked = sorted(k for k, v in os.environ.items() if {secret!r} in v or 'WAREHOUSE' in k)"))}
    graph = {"name": "Connections", "nodes": [{"id": "conns", "notebook": "conns.ipynb", "connections": ["archive"],
                                               "outputs": ["names", "host", "leaked"]}]}
    done, run = dag_test(airflow, graph, notebooks, workflow_id=901,
                         env={"AIRFLOW_CONN_LOOM__ACME__ARCHIVE": "s3://k:archive-pw-93@archive.example"})
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert airflow.outputs(run, "conns") == {
        "names": sorted(connection_env("archive")),
        "host": "archive.example", "leaked": []}
    assert WARNING_PREFIX + UNSANDBOXED_WARNING in done.stdout + done.stderr
