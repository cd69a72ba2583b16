"""The rendered DAGs in a real Airflow 3.3: they import, and `airflow dags test` runs them
end to end. Assertions read what the notebooks were given (the executed notebooks) and what
their tasks returned (XCom, in Airflow's database)."""
import nbformat
import pytest

from tests.dags.examples import JINJA_TEXT, WORKFLOWS, example_dag_id, example_source, notebook_files

pytestmark = pytest.mark.airflow


def injected(run_dir, task: str, notebook: str) -> str:
    """The parameters cell papermill injected: what the notebook was given."""
    nb = nbformat.read(run_dir / task / notebook, as_version=4)
    return next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))


def test_every_example_imports_without_errors(airflow):
    broken = airflow.dags / "broken.py"
    broken.write_text(example_source("chain", golden=False) + "\n)\n")
    try:
        errors = airflow.json("dags", "list-import-errors", "--local")
    finally:
        broken.unlink()
    # The broken copy shows the check sees errors; the examples have none.
    assert [e["filepath"] for e in errors] == [str(broken)]
    listed = {d["dag_id"] for d in airflow.json("dags", "list", "--local")}
    assert listed == {example_dag_id(name) for name in WORKFLOWS}


def test_chain_passes_outputs_conf_and_connections(airflow):
    conf = {"factor": 10, "run_date": "2026-12-31", "greeting": "{{ ds }} from conf"}
    done, run = airflow.dags_test(example_dag_id("chain"), conf=conf)
    assert done.returncode == 0, done.stdout[-5000:]
    # The notebook saw the connection through its kernel's environment.
    assert airflow.outputs(run, "extract") == {"rows": [5, 6, 7], "dsn_user": "loom_reader"}
    # Upstream output bound to `rows`; run conf overrides the global factor 2.
    assert airflow.outputs(run, "transform") == {"total": 180, "echo": JINJA_TEXT}
    load = airflow.outputs(run, "load")
    assert load["summary"] == "2026-12-31: 180"
    # artifacts_dir is the task's own folder; Jinja-looking conf reached the notebook as text.
    assert load["path"] == str(run / "load" / "summary.txt")
    assert (run / "load" / "summary.txt").read_text() == "2026-12-31: 180\n{{ ds }} from conf"
    for executed in run.rglob("*.ipynb"):
        assert "s3cret-pw" not in executed.read_text(), f"the connection's secret leaked into {executed}"


def test_fanout_runs_once_per_item_in_order(airflow):
    done, run = airflow.dags_test(example_dag_id("fanout"))
    assert done.returncode == 0, done.stdout[-5000:]
    accounts = WORKFLOWS["fanout"]["parameters"][0]["default"]
    assert sorted(p.name for p in (run / "score").iterdir()) == ["0", "1", "2"]
    for i, account in enumerate(accounts):
        assert airflow.outputs(run, "score", i)["who"] == account
    assert sorted(p.name for p in (run / "scale").iterdir()) == ["0", "1", "2"]
    collected = airflow.outputs(run, "collect")
    assert collected == {"total": sum(len(a) for a in accounts), "seen": accounts, "scaled_total": 2 * (1 + 2 + 3)}


def test_all_done_runs_after_a_failure(airflow):
    done, run = airflow.dags_test(example_dag_id("trigger_rules"))
    assert "expected failure" in done.stdout + done.stderr
    assert "expected failure" in injected(run, "boom", "fail.ipynb")
    assert airflow.outputs(run, "cleanup") == {"out": 7}
    assert airflow.outputs(run, "on_failure") == {"out": 0}
    assert not (run / "after_success").exists()


def test_a_notebook_changed_after_deploy_fails_its_task(airflow):
    relpath = next(p for p in notebook_files() if p.endswith("/daily.ipynb"))
    path = airflow.notebooks / relpath
    pinned = path.read_text(encoding="utf-8")
    path.write_text(pinned.replace("note", "__import__('os').environ; note", 1), encoding="utf-8")
    try:
        done, run = airflow.dags_test(example_dag_id("schedule"))
    finally:
        path.write_text(pinned, encoding="utf-8")
    assert f"Notebook {relpath} was changed after Loom deployed it: its sha256 is" in done.stdout + done.stderr
    assert not (run / "report" / "daily.ipynb").exists()  # it never ran
