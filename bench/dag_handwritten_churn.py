"""A hand-written TaskFlow DAG of the same shape as the demo workflow "Churn per account",
written the way a person would without Loom. bench/dag_parse.py compares Airflow's parse
time of this file with the generated one. It is not used by Loom itself."""
import datetime
import os
from pathlib import Path

from airflow.sdk import DAG, Param, task

NOTEBOOKS = Path(os.environ.get("NOTEBOOKS_DIR", "/opt/notebooks"))
POOL = "loom__demo"


def run_notebook(name, parameters, context):
    import papermill

    out = Path("/tmp/churn") / context["ti"].run_id / context["ti"].task_id / str(context["ti"].map_index)
    out.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out / name), parameters=parameters, progress_bar=False)
    return str(out / name)


@task(retries=1, retry_delay=datetime.timedelta(seconds=5), execution_timeout=datetime.timedelta(seconds=600), pool=POOL)
def ingest(**context):
    params = context["params"]
    path = run_notebook("ingest.ipynb", {"source": "warehouse", "run_date": params["run_date"]}, context)
    return {"dataset_path": path, "row_count": 0}


@task(pool=POOL)
def accounts(**context):
    return list(context["params"]["accounts"])


@task(execution_timeout=datetime.timedelta(seconds=600), pool=POOL)
def train(account, ingested, **context):
    run_notebook("train.ipynb", {"account": account, "input_path": ingested["dataset_path"]}, context)
    return {"auc": 0.5}


@task(pool=POOL)
def report(results, **context):
    aucs = [r["auc"] for r in results]
    run_notebook("report.ipynb", {"aucs": aucs, "threshold": 0.75}, context)
    return {"best_account": None, "mean_auc": sum(aucs) / len(aucs)}


with DAG(
    dag_id="handwritten_churn",
    dag_display_name="Churn per account",
    description="Ingest the day's events, train one model per customer account, report the best.",
    schedule="@daily",
    start_date=datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["loom", "demo"],
    params={
        "run_date": Param("2026-11-01", type="string", description="The day to process"),
        "accounts": Param(["acme", "globex", "initech"], type="array", description="One model per account"),
    },
) as dag:
    ingested = ingest()
    trained = train.partial(ingested=ingested).expand(account=accounts())
    report(trained)
