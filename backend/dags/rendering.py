"""Turn a workflow version into Airflow 3 DAG code. No Django here.

`dag_context` makes every decision (names, pools, task order, what each task gets) in plain
Python; `dag_render` hands the result to dag_templates/dag.py.j2, which only loops and
prints. Every printed value goes through the `py` filter (dags.literals), and the Jinja
environment refuses to print anything that did not.
"""
import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

import jinja2

from dags import naming
from dags.literals import Literal, py_literal
from runtime.limits import Limits
from workflows.graph import graph_bindings, graph_order, output_names

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "dag_templates"
TEMPLATE = "dag.py.j2"
BACKEND_DIR = Path(__file__).resolve().parents[1]
# Carried verbatim by every DAG file (paths relative to backend/), so both engines run
# literally the same functions; the DAG compiles them when a task first needs them.
RUNTIME_FILES = ("runtime/parameters.py", "runtime/execute.py", "runtime/engine.py", "runtime/limits.py",
                 "runtime/outputs.py", "runtime/sandbox.py", "runtime/trees.py", "dags/airflow_tasks.py")

# Where a task finds things on the machine it runs on, read when it runs (never at parse
# time): [environment variable, Airflow Variable]. Without either, notebooks are looked up
# in loom-notebooks/ beside the DAG file and artifacts go to the temporary directory.
NOTEBOOKS_DIR_SETTING = ["LOOM_AIRFLOW_NOTEBOOKS_DIR", "loom_notebooks_dir"]
ARTIFACTS_DIR_SETTING = ["LOOM_AIRFLOW_ARTIFACTS_DIR", "loom_artifacts_dir"]

PARAM_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "dict": "object"}


@dataclass(frozen=True)
class PinnedNotebook:
    """A notebook version a workflow version pinned: its content hash and parameter names."""

    sha256: str
    parameters: tuple[str, ...]


def runtime_sources() -> dict[str, str]:
    """The source of the modules every DAG file carries, read as they are now."""
    return {name: (BACKEND_DIR / name).read_text(encoding="utf-8") for name in RUNTIME_FILES}


def dag_filename(*, tenant: str, workflow_id: int) -> str:
    return naming.airflow_dag_id(tenant=tenant, workflow_id=workflow_id) + ".py"


def dag_context(
    *,
    graph: Mapping,
    tenant: str,
    workflow_id: int,
    version: int,
    notebooks: Mapping[str, PinnedNotebook],
    runtime: Mapping[str, str],
    tenant_limits: Mapping[str, int | None] | None = None,
    timeout_max_s: float | None = None,
) -> dict:
    """Everything dag.py.j2 prints, for a normalized graph (as stored: see workflows.services)
    that passed validation.

    `notebooks` holds the pinned notebook of every node's notebook name; `runtime` maps each
    of RUNTIME_FILES to the source the DAG carries (`runtime_sources()` in production);
    `tenant_limits` the tenant's own limits (node_timeout_s, artifacts_quota_mb, node_memory_mb,
    node_max_procs; empty ones are the platform's), which its tasks apply as the local engine does;
    `timeout_max_s` the platform's LOOM_NODE_TIMEOUT_MAX_S, which caps a node's execution_timeout.
    """
    g = graph
    dag_id = naming.airflow_dag_id(tenant=tenant, workflow_id=workflow_id)
    nodes = {n["id"]: n for n in g["nodes"]}
    order = graph_order(g)
    position = {nid: i for i, nid in enumerate(order)}

    inputs = graph_bindings(g)

    def first_task(nid: str) -> str:
        # A fanned-out node starts with the task that resolves its list.
        return naming.items_task_id(nid) if nodes[nid]["map_over"] else nid

    def last_task(nid: str) -> str:
        # A node that accepts failed items ends with the task that checks the allowance.
        return naming.check_task_id(nid) if _tolerant(nodes[nid]) else nid

    def node_of(task_id: str) -> str:
        return task_id.removesuffix(naming.ITEMS_SUFFIX).removesuffix(naming.CHECK_SUFFIX)

    dependencies = sorted(
        {(last_task(e["source"]), first_task(e["target"])) for e in g["edges"]}
        | {(nid, naming.check_task_id(nid)) for nid in order if _tolerant(nodes[nid])},
        key=lambda d: (position[node_of(d[1])], position[node_of(d[0])]),
    )
    return {
        "header": {"name": g["name"], "version": version, "tenant": tenant, "workflow_id": workflow_id},
        "tenant": tenant,
        "dag_id": dag_id,
        "settings": {
            "dag_id": dag_id,
            "tenant": tenant,
            "items_suffix": naming.ITEMS_SUFFIX,
            "check_suffix": naming.CHECK_SUFFIX,
            "notebooks_dir": NOTEBOOKS_DIR_SETTING,
            "artifacts_dir": ARTIFACTS_DIR_SETTING,
            "tenant_limits": {k: v for k, v in sorted((tenant_limits or {}).items()) if v},
        },
        "nodes": {nid: _node_spec(nodes[nid], inputs[nid], tenant, notebooks) for nid in order},
        "dag": _dag_args(g, tenant),
        "params": [_param(p) for p in g["parameters"]],
        "tasks": [task for nid in order for task in _tasks(nodes[nid], tenant, timeout_max_s)],
        "dependencies": [list(d) for d in dependencies],
        "runtime": dict(runtime),
    }


def dag_render(context: Mapping, *, literal=py_literal) -> str:
    """The DAG file's text for a context from `dag_context`.

    `literal` is the filter values are printed with; tests swap in one that prints no user
    text at all, to show that the file's statements do not depend on the values.
    """
    return _environment(literal).get_template(TEMPLATE).render(context)


def _node_spec(node: Mapping, inputs: Mapping, tenant: str, notebooks: Mapping[str, PinnedNotebook]) -> dict:
    """What the node's task reads at run time; kept in the module, never in templated arguments."""
    pinned = notebooks[node["notebook"]]
    return {
        "notebook": naming.notebook_relpath(tenant=tenant, sha256=pinned.sha256, name=node["notebook"]),
        "parameters": list(pinned.parameters),
        "values": _canonical(node["parameters"]),
        "inputs": _canonical(inputs),
        "outputs": output_names(node),
        "connections": {c: naming.airflow_conn_id(tenant=tenant, connection=c) for c in sorted(set(node["connections"]))},
        # As in the graph: the task reads them with runtime/parameters.py's fan_out.
        "map_over": node["map_over"],
        "map_parameter": node["map_parameter"],
        # The kernel's limits, when the task runs sandboxed (runtime/limits.py's Limits.kernel).
        "memory_mb": node.get("memory_mb"),  # (absent from graphs stored before these fields)
        "max_procs": node.get("max_procs"),
        "max_failed_items": node.get("max_failed_items"),
        "max_failed_ratio": node.get("max_failed_ratio"),
    }


def _tolerant(node: Mapping) -> bool:
    """A fanned-out node that accepts some failed items (runtime.parameters.failures_allowed)."""
    return bool(node["map_over"]) and (node.get("max_failed_items") is not None or node.get("max_failed_ratio") is not None)


def _tasks(node: Mapping, tenant: str, timeout_max_s: float | None) -> list[dict]:
    nid = node["id"]
    # The node's own timeout_s, never above the platform maximum (the local engine's rule).
    timeout_s, _ = Limits(timeout_max_s=timeout_max_s).timeout(node["timeout_s"])
    name = node["label"] or nid
    common = {
        "pool": naming.airflow_pool(tenant=tenant, pool=node["pool"]),
        "queue": node["queue"],
        "trigger_rule": node["trigger_rule"],
    }
    task = {
        **common,
        "kind": "node",
        "task_id": nid,
        "display_name": name,
        "doc_md": node["description"] or None,
        "retries": node["retries"],
        "retry_delay_s": node["retry_delay_s"],
        "timeout_s": timeout_s if timeout_s is None else int(timeout_s),
        "max_active": node["max_active"],
        "expand": None,
    }
    if not node["map_over"]:
        return [task]
    items = {
        **common,
        "kind": "items",
        "task_id": naming.items_task_id(nid),
        "display_name": f"{name}: items",
        "doc_md": f"The list that {name} runs over ({node['map_over']}).",
        "expand": None,
    }
    tasks = [items, {**task, "expand": items["task_id"]}]
    if _tolerant(node):
        tasks.append({
            **common,
            "kind": "check",
            "task_id": naming.check_task_id(nid),
            "display_name": f"{name}: failed items within the allowance",
            "doc_md": f"Fails when more items of {name} failed than it accepts.",
            "trigger_rule": "all_done",
            "expand": None,
        })
    return tasks


def _dag_args(g: Mapping, tenant: str) -> dict:
    start = date.fromisoformat(str(g["start_date"]))
    return {
        "display_name": g["name"],
        "description": g["description"] or None,
        "schedule": g["schedule"] or None,
        "start_date": [start.year, start.month, start.day],
        "catchup": bool(g["catchup"]),
        "tags": list(dict.fromkeys(["loom", tenant, *g["tags"]])),
        # Airflow refuses a continuous DAG that may run more than once at a time.
        "max_active_runs": 1 if g["schedule"] == "@continuous" else None,
    }


def _param(p: Mapping) -> dict:
    """A workflow parameter as an Airflow Param, so the trigger form offers it typed."""
    kind = PARAM_TYPES[p["type"]]
    default = p.get("default")
    return {
        "name": p["name"],
        "default": _canonical(default),
        "type": kind if default is not None else [kind, "null"],
        "description": p.get("help") or None,
    }


def _canonical(value):
    """JSON with dict keys sorted: PostgreSQL's jsonb does not keep key order, and the same
    version must render the same bytes on every database."""
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _only_literals(value):
    if not isinstance(value, Literal):
        raise TypeError(f"dag templates print values only through the py filter; got {value!r}")
    return value


@functools.cache
def _environment(literal) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_only_literals,
    )
    env.filters["py"] = literal
    return env
