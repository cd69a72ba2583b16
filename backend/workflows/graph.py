"""Pure workflow-graph logic: shape (defaults), outputs and ordering. No Django here.

A graph is the JSON documented in docs/workflow-graph.md; what it may mean is checked by
workflows.validation.
"""
import re
from dataclasses import asdict, dataclass
from graphlib import TopologicalSorter
from typing import Mapping

from runtime.parameters import MAP_ITEMS_OUTPUT

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
TRIGGER_RULES = (
    "all_success", "all_failed", "all_done", "all_skipped", "one_success", "one_failed", "one_done",
    "none_failed", "none_failed_min_one_success", "none_skipped", "always",
)
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
NODE_DEFAULTS = {
    "label": "", "description": "", "parameters": {}, "outputs": [], "retries": 0, "retry_delay_s": 60,
    "timeout_s": None, "memory_mb": None, "max_procs": None, "trigger_rule": "all_success", "pool": None, "queue": None,
    "map_over": None, "map_parameter": None, "max_active": None, "max_failed_items": None, "max_failed_ratio": None,
    "reuse_kernel": False, "connections": [], "cache": True, "position": {"x": 0, "y": 0},
}
EDGE_DEFAULTS = {"bind": {}}
PARAMETER_DEFAULTS = {"default": None, "help": ""}  # a global parameter's (None: notebooks keep their own)
GRAPH_DEFAULTS = {
    "description": "", "schedule": None, "start_date": "2026-01-01", "catchup": False, "tags": [],
    "parameters": [], "nodes": [], "edges": [], "alerts": [],
}
ALERT_EVENTS = ("failure", "success", "recovery", "duration")
ALERT_DEFAULTS = {"on": ["failure"], "duration_s": None}


@dataclass(frozen=True)
class GraphError:
    node: str | None
    field: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def graph_normalize(graph: Mapping) -> dict:
    """A copy of the graph with every optional field present (defaults filled in)."""
    g = _filled(GRAPH_DEFAULTS, graph)
    g["nodes"] = [_filled(NODE_DEFAULTS, n) for n in g["nodes"]]
    g["edges"] = [_filled(EDGE_DEFAULTS, e) for e in g["edges"]]
    g["parameters"] = [_filled(PARAMETER_DEFAULTS, p) for p in g["parameters"]]
    g["alerts"] = [_filled(ALERT_DEFAULTS, a) for a in g["alerts"]]
    return g


def _filled(defaults: Mapping, value: Mapping) -> dict:
    # Each missing list or dict is a copy of its default, so that no two graphs share one.
    missing = {k: v.copy() if isinstance(v, (dict, list)) else v for k, v in defaults.items() if k not in value}
    return {**missing, **value}


def output_names(node: Mapping) -> list[str]:
    """Declared outputs are names, or {name, type} objects when the type is known."""
    return [o if isinstance(o, str) else o["name"] for o in node.get("outputs", [])]


def given_outputs(node: Mapping) -> list[str]:
    """What a node passes on: its declared outputs and, when it fans out, MAP_ITEMS_OUTPUT (the
    items its successful results come from)."""
    return output_names(node) + ([MAP_ITEMS_OUTPUT] if node.get("map_over") else [])


def output_types(node: Mapping) -> dict[str, str | None]:
    return {o: None for o in node.get("outputs", []) if isinstance(o, str)} | {
        o["name"]: o.get("type") for o in node.get("outputs", []) if isinstance(o, Mapping)
    }


def graph_order(graph: Mapping) -> list[str]:
    """Node ids in a stable topological order (ties broken by the order nodes are listed)."""
    position = {n["id"]: i for i, n in enumerate(graph["nodes"])}
    sorter = TopologicalSorter({n["id"]: set() for n in graph["nodes"]})
    for e in graph["edges"]:
        sorter.add(e["target"], e["source"])
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def graph_bindings(graph: Mapping) -> dict[str, dict[str, dict[str, str]]]:
    """Each node's edge bindings, {target: {upstream node: {output: parameter}}} (every node has an entry)."""
    bindings: dict[str, dict[str, dict[str, str]]] = {n["id"]: {} for n in graph["nodes"]}
    for e in graph["edges"]:
        bindings.setdefault(e["target"], {}).setdefault(e["source"], {}).update(e.get("bind", {}))
    return bindings


def upstream_ids(graph: Mapping, node_id: str) -> list[str]:
    return sorted({e["source"] for e in graph["edges"] if e["target"] == node_id})


def ancestors(graph: Mapping, node_id: str) -> set[str]:
    """Every node that runs before `node_id`."""
    return reachable(graph, node_id, "target", "source")


def descendants(graph: Mapping, node_id: str) -> set[str]:
    """Every node that runs after `node_id`."""
    return reachable(graph, node_id, "source", "target")


def reachable(graph: Mapping, start: str, from_end: str, to_end: str) -> set[str]:
    # One pass over the edges builds the adjacency: O(V + E) per call, not O(E) per node reached.
    following: dict[str, list[str]] = {}
    for e in graph["edges"]:
        following.setdefault(e[from_end], []).append(e[to_end])
    seen, stack = set(), [start]
    while stack:
        for nxt in following.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
