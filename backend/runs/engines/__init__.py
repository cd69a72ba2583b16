"""Engines run a workflow version: a small registry filled in one place (ENGINES below).

An engine gets a Run whose node rows exist and acts on it: `start` makes it progress, `cancel`
stops what is running, `rerun` readies a repair. Run state lives in the database for every
engine. An engine talks to the network only where a method says it may: never inside a
database transaction (on SQLite that would hold the write lock while it waits).

Engines send Celery tasks by name (`task_send`; runs.tasks defines them), so that no engine
imports the tasks module that imports the engines.
"""
from importlib import import_module
from typing import Protocol

from celery import current_app

from loom.errors import Unavailable

# name -> "module:class". An engine's constructor raises EngineUnavailable when this
# installation cannot use it (the Airflow engine without LOOM_AIRFLOW_URL, say).
ENGINES = {
    "local": "runs.engines.local:LocalEngine",
    "airflow": "runs.engines.airflow:AirflowEngine",
}
ENGINE_NAMES = tuple(ENGINES)

# The Celery tasks of runs.tasks, by name.
NODE_RUN_EXECUTE = "runs.node_run_execute"
AIRFLOW_RUN_SUBMIT = "runs.airflow_run_submit"
AIRFLOW_RUN_CANCEL = "runs.airflow_run_cancel"


class EngineUnavailable(Unavailable):
    """The engine exists in Loom but is not configured on this installation, or cannot be reached."""


class Engine(Protocol):
    name: str

    def check(self) -> None:
        """Before a run is written, outside any transaction (network allowed): raise
        EngineUnavailable when the engine cannot take a run now."""

    def start(self, *, run) -> None:
        """Inside the transaction that created or repaired the run, holding its row (no network):
        make it progress."""

    def cancel(self, *, run) -> None:
        """After the run's cancel was committed (network allowed): stop what still runs."""

    def rerun(self, *, run, plan: dict[str, bool], rows: list, fresh: bool = False) -> None:
        """Before a repair resets the rows, outside any transaction (network allowed): make the
        engine run again the nodes of `plan` (runs.bookkeeping.repair_plan); EngineUnavailable
        if it cannot, and nothing is repaired. `fresh`: the repair moves the run to another
        version or parameters (Airflow then starts a new DAG run, fed the kept outputs)."""


def engine_get(name: str) -> Engine:
    """The engine called `name`; EngineUnavailable when it is unknown or not configured here."""
    if name not in ENGINES:
        raise EngineUnavailable(f"Unknown engine '{name}'; use one of: {', '.join(ENGINES)}.")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(import_module(module), cls)()


def task_send(name: str, *args, countdown: float = 0) -> None:
    """Send the Celery task `name` with `args` (after `countdown` seconds)."""
    current_app.send_task(name, args=args, **({"countdown": countdown} if countdown > 0 else {}))
