"""Engines run a workflow version: a small registry filled in one place (ENGINES below).

An engine gets a Run whose node rows exist and acts on it: `start` and `repair` make it
progress, `cancel` stops what is running. Run state lives in the database for every engine.
"""
from importlib import import_module
from typing import Protocol

from loom.errors import Unavailable

# name -> "module:class". An engine's constructor raises EngineUnavailable when this
# installation cannot use it (the Airflow engine without LOOM_AIRFLOW_URL, say).
ENGINES = {
    "local": "runs.engines.local:LocalEngine",
    "airflow": "runs.engines.airflow:AirflowEngine",
}
ENGINE_NAMES = tuple(ENGINES)


class EngineUnavailable(Unavailable):
    """The engine exists in Loom but is not configured on this installation."""


class Engine(Protocol):
    name: str

    def start(self, *, run) -> None: ...

    def cancel(self, *, run) -> None: ...

    def repair(self, *, run) -> None: ...


def engine_get(name: str) -> Engine:
    """The engine called `name`; EngineUnavailable when it is unknown or not configured here."""
    if name not in ENGINES:
        raise EngineUnavailable(f"Unknown engine '{name}'; use one of: {', '.join(ENGINES)}.")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(import_module(module), cls)()
