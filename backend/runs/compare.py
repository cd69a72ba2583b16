"""Two runs side by side (what changed between yesterday's run and today's), and the diff of
a node's two executed notebooks, computed by nbdime (catalog.diffs, the one home of notebook
diffs). Selectors only: nothing here writes."""
import nbformat

from catalog.diffs import notebook_diff
from runs.models import NodeRun, Run
from runs.selectors import node_run_get, run_node_runs
from runtime.execute import collector_remove

# What differs between any two executions of the same cell (papermill's timings, the counter):
# a cell that differs only there is unchanged.
EXECUTION_NOISE = frozenset({"metadata", "execution_count"})


def parameters_effective(run: Run, graph_parameters: list[dict] | None = None) -> dict:
    """The values of the workflow's global parameters the run had: its overrides, else the defaults."""
    graph_parameters = run.version.graph["parameters"] if graph_parameters is None else graph_parameters
    return {p["name"]: run.parameters.get(p["name"], p.get("default")) for p in graph_parameters} | run.parameters


def parameters_changed(run: Run, graph_parameters: list[dict] | None = None) -> dict:
    """The run's parameters that differ from the workflow's defaults."""
    graph_parameters = run.version.graph["parameters"] if graph_parameters is None else graph_parameters
    defaults = {p["name"]: p.get("default") for p in graph_parameters}
    return {k: v for k, v in run.parameters.items() if k not in defaults or defaults[k] != v}


def duration_s(row) -> float | None:
    return (row.ended_at - row.started_at).total_seconds() if row.started_at and row.ended_at else None


def _side(row: NodeRun | None) -> dict | None:
    if row is None:
        return None
    return {"status": row.status, "started_at": row.started_at, "ended_at": row.ended_at, "duration_s": duration_s(row),
            "outputs": row.outputs, "version": row.version.number if row.version_id else None,
            "items": row.items_counted}


def run_compare(*, run: Run, other: Run) -> dict:
    """`run` against `other`: the parameters whose values differ, and per node (in `run`'s graph
    order, then the nodes only `other` has) both sides and what changed: its status, the names
    of the outputs whose values differ, and whether it ran a different notebook."""
    mine = {r.node: r for r in run_node_runs(run=run)}
    theirs = {r.node: r for r in run_node_runs(run=other)}
    values, other_values = parameters_effective(run), parameters_effective(other)
    parameters = [{"name": name, "run": values.get(name), "other": other_values.get(name)}
                  for name in dict.fromkeys([*values, *other_values]) if values.get(name) != other_values.get(name)]
    notebooks = {n["id"]: run.version.notebook_pins.get(n["notebook"]) for n in run.version.graph["nodes"]}
    other_notebooks = {n["id"]: other.version.notebook_pins.get(n["notebook"]) for n in other.version.graph["nodes"]}
    nodes = []
    for node in dict.fromkeys([*mine, *theirs]):
        a, b = mine.get(node), theirs.get(node)
        outputs = sorted(name for name in {*(a.outputs if a else {}), *(b.outputs if b else {})}
                         if (a.outputs if a else {}).get(name) != (b.outputs if b else {}).get(name)) if a and b else []
        nodes.append({
            "node": node, "run": _side(a), "other": _side(b),
            "changed": {"status": bool(a and b and a.status != b.status), "outputs": outputs,
                        "notebook": notebooks.get(node) != other_notebooks.get(node),
                        "presence": a is None or b is None},
        })
    return {"run": run.pk, "other": other.pk, "version": run.version.number, "other_version": other.version.number,
            "parameters": parameters, "nodes": nodes}


def executed_notebook_text(row: NodeRun) -> str:
    """The executed notebook as Loom serves it: without the collector cell (rows stored before
    Loom removed it keep it in the database)."""
    nb = collector_remove(nbformat.reads(row.notebook, as_version=4))
    return nbformat.writes(nb)


def node_notebook_diff(*, run: Run, other: Run, node: str, map_index: int | None) -> dict:
    """The executed notebook of `node` in `other` (old side) against `run` (new side), cell by
    cell. NodeRun.DoesNotExist naming the run whose node is missing or has no notebook."""
    rows = {}
    for side in (run, other):
        row = node_run_get(run=side, node=node, map_index=map_index)
        if not row.notebook:
            raise NodeRun.DoesNotExist(f"'{node}' of run {side.pk} has no executed notebook (it is {row.status}).")
        rows[side.pk] = row
    cells = notebook_diff(executed_notebook_text(rows[other.pk]), executed_notebook_text(rows[run.pk]),
                          ignored=EXECUTION_NOISE)
    return {"run": run.pk, "other": other.pk, "node": node, "map_index": map_index, "cells": cells}
