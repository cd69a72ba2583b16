"""Engines run a workflow version: a small registry filled in one place (ENGINES below).

An engine gets a Run whose node rows exist and acts on it: `start` and `repair` make it
progress, `cancel` stops what is running. Run state lives in the database for every engine.
"""
from typing import Protocol

ENGINE_NAMES = ("local", "airflow")


class EngineUnavailable(Exception):
    """The engine exists in Loom but is not configured on this installation."""


class Engine(Protocol):
    name: str

    def start(self, *, run) -> None: ...

    def cancel(self, *, run) -> None: ...

    def repair(self, *, run) -> None: ...


def _engines() -> dict[str, Engine]:
    from runs.engines.local import LocalEngine

    return {"local": LocalEngine()}


def engine_get(name: str) -> Engine:
    """The engine called `name`; EngineUnavailable when it is not configured here."""
    engines = _engines()
    if name not in engines:
        raise EngineUnavailable(
            f"The '{name}' engine is not configured on this Loom installation; use 'local'."
            if name in ENGINE_NAMES else f"Unknown engine '{name}'; use one of: {', '.join(sorted(engines))}."
        )
    return engines[name]
