"""The sandbox on a real Airflow 3.3 (`airflow dags test`): with LOOM_SANDBOX=on in the task's
environment, a notebook cannot read Airflow's database or home, and a benign one runs and
writes its artifacts. The sandbox's properties one by one: tests/runtime/test_sandbox.py."""
import json
from pathlib import Path

import nbformat
import pytest

from catalog.inspection import notebook_read
from dags.rendering import PinnedNotebook, dag_context, dag_render, runtime_sources
from helpers import notebook_bytes
from tests.dags.examples import TENANT
from workflows.graph import graph_normalize

pytestmark = pytest.mark.airflow
REPO = Path(__file__).resolve().parents[2]


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
    pins = {}
    for name, data in notebooks.items():
        nb = notebook_read(data, max_bytes=10**6)
        pins[name] = PinnedNotebook(sha256=nb.sha256, parameters=tuple(p.name for p in nb.parameters))
        path = airflow.notebooks / TENANT / nb.sha256 / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nb.content, encoding="utf-8")
    graph = {"name": "Sandboxed", "nodes": [{"id": "peek", "notebook": "peek.ipynb"},
                                            {"id": "fine", "notebook": "fine.ipynb", "outputs": ["y", "home_seen"]}]}
    context = dag_context(graph=graph_normalize(graph), tenant=TENANT, workflow_id=900, version=1, notebooks=pins,
                          runtime=runtime_sources())
    dag_file = airflow.dags / f"{context['dag_id']}.py"
    dag_file.write_text(dag_render(context), encoding="utf-8")
    sandboxed = {"LOOM_SANDBOX": "on", "LOOM_SANDBOX_NETWORK": "none", "LOOM_NOTEBOOK_ENV": str(REPO / ".venv-notebook")}
    try:
        done, run = airflow.dags_test(context["dag_id"], env=sandboxed)
    finally:
        dag_file.unlink()
    peek = nbformat.read(run / "peek" / "peek.ipynb", as_version=4)
    errors = [o for c in peek.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e.ename for e in errors] == ["FileNotFoundError"], json.dumps(errors)[:2000]
    assert str(database) in errors[0].evalue
    assert airflow.outputs(run, "fine") == {"y": 42, "home_seen": False}
    assert (run / "fine" / "out.txt").read_text() == "ok"
    assert done.returncode != 0  # the DAG run failed: peek failed, as it should
