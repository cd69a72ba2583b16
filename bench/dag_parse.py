"""Benchmark: Airflow's parse time of a generated DAG against a hand-written TaskFlow DAG of
the same shape (the demo workflow "Churn per account"; target <= 1.1x).

    .venv/bin/python bench/dag_parse.py [rounds]

Renders the demo workflow, builds or reuses Airflow's venv (airflow/venv.sh), then, inside
Airflow, times what the DAG processor does per file: DagBag.process_file (import the file,
collect its DAGs) plus DagSerialization.to_dict of each DAG. The two files alternate, and
the medians are compared.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loom.settings")

import django  # noqa: E402

django.setup()  # the demo workflow lives beside the models that create it

from catalog.inspection import notebook_read  # noqa: E402
from dags.rendering import PinnedNotebook, dag_context, dag_render, runtime_sources  # noqa: E402
from workflows.demo import CHURN_GRAPH  # noqa: E402
from workflows.graph import graph_normalize  # noqa: E402

TARGET = 1.1

TIMER = r'''
import json, statistics, sys, time
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization

files, rounds = sys.argv[1:3], int(sys.argv[3])
times = {f: [] for f in files}
for i in range(rounds + 3):
    for f in files:
        bag = DagBag(dag_folder=f, collect_dags=False)
        start = time.perf_counter()
        bag.process_file(f, only_if_updated=False, safe_mode=False)
        for dag in bag.dags.values():
            DagSerialization.to_dict(dag)
        elapsed = time.perf_counter() - start
        assert bag.dags and not bag.import_errors, (f, bag.import_errors)
        if i >= 3:  # the first rounds warm imports and caches
            times[f].append(elapsed * 1000)
print(json.dumps({f: statistics.median(t) for f, t in times.items()}))
'''


def generated_source() -> str:
    notebooks = {}
    for node in CHURN_GRAPH["nodes"]:
        nb = notebook_read((REPO / "notebooks" / node["notebook"]).read_bytes(), max_bytes=10**7)
        notebooks[node["notebook"]] = PinnedNotebook(nb.sha256, tuple(p.name for p in nb.parameters))
    return dag_render(dag_context(graph=graph_normalize(CHURN_GRAPH), tenant="demo", workflow_id=1, version=1,
                                  notebooks=notebooks, runtime=runtime_sources()))


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    venv = subprocess.run(["bash", str(REPO / "airflow" / "venv.sh")], check=True, capture_output=True, text=True)
    python = Path(venv.stdout.strip().splitlines()[-1]) / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "loom__demo__1.py"
        generated.write_text(generated_source())
        size = generated.stat().st_size
        handwritten = REPO / "bench" / "dag_handwritten_churn.py"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
               "AIRFLOW_HOME": str(Path(tmp) / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        done = subprocess.run([str(python), "-c", TIMER, str(generated), str(handwritten), str(rounds)],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(done.stderr[-3000:])
        medians = json.loads(done.stdout.strip().splitlines()[-1])
    gen, hand = medians[str(generated)], medians[str(handwritten)]
    print(f"Airflow parse + serialize, median of {rounds} (demo workflow shape: 4 tasks, one mapped)")
    print(f"  generated    ({size:,} bytes): {gen:.2f} ms")
    print(f"  hand-written ({handwritten.stat().st_size:,} bytes): {hand:.2f} ms")
    print(f"  ratio {gen / hand:.2f}x (target <= {TARGET}x)")


if __name__ == "__main__":
    main()
