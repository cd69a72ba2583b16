"""A real Airflow 3.3 for the DAG tests: its own venv (airflow/venv.sh), a fresh AIRFLOW_HOME
with a SQLite database, the example DAGs rendered into its DAG folder and their notebooks
deployed under the notebooks base directory, as a deploy would."""
import json
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.airflow_support import airflow_env, airflow_venv
from tests.dags.examples import TENANT, WAREHOUSE_URI, WORKFLOWS, example_dag_id, example_source, notebook_files


@dataclass
class Airflow:
    venv: Path
    env: dict
    dags: Path
    notebooks: Path
    artifacts: Path

    def run(self, *args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / "airflow"), *args], env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def outputs(self, run: Path, task: str, map_index: int = -1) -> dict | None:
        """What a task returned (its node's outputs, XCom's return_value), read from Airflow's own
        database; `run` is the run's artifacts folder, named after the DAG and the run."""
        with sqlite3.connect(Path(self.env["AIRFLOW_HOME"]) / "airflow.db") as db:
            row = db.execute("SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?"
                             " AND key = 'return_value'", (run.parent.name, run.name, task, map_index)).fetchone()
        return None if row is None else json.loads(row[0])

    def json(self, *args: str):
        """A CLI command's `-o json` answer (Airflow prints warnings before it on stdout; a
        command that found problems, such as import errors, answers and exits non-zero)."""
        done = self.run(*args, "-o", "json")
        try:
            return json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise AssertionError(f"airflow {' '.join(args)} gave no JSON:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}")

    def dags_test(self, dag_id: str, conf: dict | None = None, env: dict | None = None) -> tuple[subprocess.CompletedProcess, Path]:
        """Run the whole DAG in one process (with `env` added to its environment); return the
        result and the run's artifacts folder."""
        folder = self.artifacts / TENANT / dag_id  # each tenant's files under a root of its own
        before = set(folder.glob("*"))
        done = self.run("dags", "test", dag_id, *(["-c", json.dumps(conf)] if conf else []), env=env)
        runs = set(folder.glob("*")) - before
        assert len(runs) == 1, f"expected one new run folder for {dag_id}:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
        return done, runs.pop()


@pytest.fixture(scope="session")
def airflow(tmp_path_factory) -> Airflow:
    started = time.monotonic()
    # Never skipped: if the venv cannot be built, the tests fail and say why.
    venv = airflow_venv()
    root = tmp_path_factory.mktemp("airflow")
    dags, notebooks, artifacts = root / "dags", root / "notebooks", root / "artifacts"
    for folder in (dags, notebooks, artifacts):
        folder.mkdir()
    env = airflow_env(
        root, dags,
        LOOM_AIRFLOW_NOTEBOOKS_DIR=str(notebooks),
        LOOM_AIRFLOW_ARTIFACTS_DIR=str(artifacts),
        # Tenant acme's connection `warehouse`, as the deploy step would sync it.
        AIRFLOW_CONN_LOOM__ACME__WAREHOUSE=WAREHOUSE_URI,
    )
    airflow = Airflow(venv=venv, env=env, dags=dags, notebooks=notebooks, artifacts=artifacts)
    migrate = airflow.run("db", "migrate")
    assert migrate.returncode == 0, migrate.stdout[-5000:] + migrate.stderr[-5000:]

    for relpath, content in notebook_files().items():
        (notebooks / relpath).parent.mkdir(parents=True, exist_ok=True)
        (notebooks / relpath).write_text(content, encoding="utf-8")
    for name in WORKFLOWS:
        (dags / f"{example_dag_id(name)}.py").write_text(example_source(name, golden=False), encoding="utf-8")
    print(f"\nAirflow ready in {time.monotonic() - started:.1f} s (venv {venv})")
    return airflow
