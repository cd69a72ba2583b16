"""Pure workflow-graph logic: shape, ordering and validation. No Django here.

A graph is the JSON documented in docs/workflow-graph.md. Validation returns every problem at once,
each naming the node (or None for workflow-level problems) and the field, so the editor can
show it where it belongs.
"""
import re
from dataclasses import asdict, dataclass
from datetime import date
from graphlib import CycleError, TopologicalSorter
from typing import Iterable, Mapping

from croniter import croniter

from catalog.inspection import TYPES, type_of, value_fits
from runtime.parameters import MAP_ITEMS_OUTPUT, fan_out, node_parameters
from loom.values import json_value_problem, text_shown

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
    "connections": [], "position": {"x": 0, "y": 0},
}
EDGE_DEFAULTS = {"bind": {}}
PARAMETER_DEFAULTS = {"default": None, "help": ""}  # a global parameter's (None: notebooks keep their own)
GRAPH_DEFAULTS = {
    "description": "", "schedule": None, "start_date": "2026-01-01", "catchup": False, "tags": [],
    "parameters": [], "nodes": [], "edges": [],
}


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
    return _reachable(graph, node_id, "target", "source")


def descendants(graph: Mapping, node_id: str) -> set[str]:
    """Every node that runs after `node_id`."""
    return _reachable(graph, node_id, "source", "target")


def _reachable(graph: Mapping, start: str, from_end: str, to_end: str) -> set[str]:
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


class _Ancestry:
    """"Does `a` run before `b`?" for many pairs of one graph. On an acyclic graph, one pass in
    topological order gives each node its ancestors as a bit set (a Python int, one bit a node):
    O(V + E) set unions of V/64 words, then each question is a shift. Graphs with a cycle (drafts)
    fall back to a walk per question."""

    def __init__(self, node_ids, edges, acyclic: bool):
        self.edges = edges
        self.bits: dict[str, int] | None = None
        if acyclic:
            index = {nid: i for i, nid in enumerate(node_ids)}
            parents: dict[str, list[str]] = {nid: [] for nid in node_ids}
            for e in edges:
                parents[e["target"]].append(e["source"])
            self.index, self.bits = index, {}
            for nid in TopologicalSorter(parents).static_order():
                bits = 0
                for p in parents[nid]:
                    bits |= self.bits[p] | (1 << index[p])
                self.bits[nid] = bits

    def runs_before(self, a: str, b: str) -> bool:
        if self.bits is None:
            return a in _reachable({"edges": self.edges}, b, "target", "source")
        return bool(self.bits[b] >> self.index[a] & 1)


def graph_validate(graph: Mapping, *, notebooks: Mapping[str, list[dict]], connections: Iterable[str] | None = (),
                   pools: Iterable[str] | None = None, queues: Iterable[str] | None = None) -> list[GraphError]:
    """Every problem of a (shape-checked) graph, given the tenant's notebook signatures by name,
    and, unless None, its connection names and the pools and queues its nodes may name (the
    tenant's, README "Roles"). Near-linear in nodes + edges."""
    g = graph_normalize(graph)
    errors: list[GraphError] = []
    add = lambda node, field, message: errors.append(GraphError(node, field, message))  # noqa: E731

    globals_ = _validate_globals(g, add)
    _validate_values(g, add)
    _validate_schedule(g, add)

    nodes: dict[str, dict] = {}
    for i, n in enumerate(g["nodes"]):
        nid = n["id"]
        if not isinstance(nid, str) or not IDENTIFIER.match(nid):
            add(nid, "id", f"Node id {nid!r} is invalid: use letters, digits and '_' (not starting with a digit, at most 64).")
        if nid in nodes:
            add(nid, "id", f"Node id '{nid}' is used by more than one node.")
        nodes.setdefault(nid, n)

    edges_ok = []
    bound: dict[tuple[str, str], str] = {}  # (target, param) -> "source.output"
    for i, e in enumerate(g["edges"]):
        src, dst = e["source"], e["target"]
        missing = [end for end in (src, dst) if end not in nodes]
        for end in missing:
            add(dst if dst in nodes else None, f"edges[{i}]", f"Edge {src} → {dst} refers to unknown node '{end}'.")
        if missing:
            continue
        if src == dst:
            add(dst, f"edges[{i}]", f"Node '{dst}' cannot feed itself.")
            continue
        edges_ok.append(e)
        outputs = given_outputs(nodes[src])
        for output, param in e["bind"].items():
            if output not in outputs:
                add(dst, f"parameters.{param}", f"'{src}' has no output '{output}' (it declares: {_names(outputs)}).")
            if (dst, param) in bound:
                add(dst, f"parameters.{param}", f"Parameter '{param}' is bound twice: from {bound[dst, param]} and {src}.{output}.")
            bound[dst, param] = f"{src}.{output}"

    cyclic = _validate_acyclic(nodes, edges_ok, add)
    incoming: dict[str, list[dict]] = {nid: [] for nid in nodes}
    for e in edges_ok:
        incoming[e["target"]].append(e)
    ancestry = _Ancestry(nodes, edges_ok, acyclic=not cyclic)

    for nid, n in nodes.items():
        _validate_node(n, incoming[nid], nodes, notebooks, globals_, cyclic, ancestry, add)
    if connections is not None:
        errors.extend(connection_errors(connection_uses(g), connections))
    errors.extend(placement_errors(placement_uses(g), pools, queues))
    return errors


# The rules below look at what the tenant has now (its connections, pools and allowed queues),
# which changes while a saved version does not: they are apart from graph_validate's other rules,
# and workflows.selectors applies them on every read to what a version kept (the *_uses).

def connection_uses(graph: Mapping) -> list[list[str]]:
    """[node id, connection name] for each connection a node names."""
    return [[n.get("id"), name] for n in graph["nodes"] for name in n.get("connections", ())]


def connection_errors(uses: Iterable, connections: Iterable[str]) -> list[GraphError]:
    """Each use (connection_uses) of a connection the tenant does not have."""
    connections = set(connections)
    return [GraphError(node, "connections", f"No connection named '{name}' in this tenant.")
            for node, name in uses if name not in connections]


def placement_uses(graph: Mapping) -> list[list]:
    """[node id, pool, queue] for each node naming a pool or a queue."""
    return [[n.get("id"), n.get("pool"), n.get("queue")] for n in graph["nodes"]
            if n.get("pool") is not None or n.get("queue") is not None]


def placement_errors(uses: Iterable, pools: Iterable[str] | None, queues: Iterable[str] | None) -> list[GraphError]:
    """A node's pool and queue: only those the platform admin gave the tenant (None: any)."""
    errors = []
    for node, pool, queue in uses:
        if pools is not None and pool is not None and pool not in set(pools):
            errors.append(GraphError(node, "pool", f"No pool {pool!r} in this tenant (it has: {_names(sorted(pools))}); "
                                                   "a platform admin defines pools."))
        if queues is not None and queue is not None and queue not in set(queues):
            errors.append(GraphError(node, "queue", f"Queue {queue!r} is not allowed in this tenant (allowed: "
                                                    f"{_names(sorted(queues))}); a platform admin sets allowed_queues."))
    return errors


def with_article(type_name) -> str:
    """'an int', 'a str': type names in messages."""
    return f"an {type_name}" if str(type_name)[:1] in "aeiou" else f"a {type_name}"


def _names(names) -> str:
    return ", ".join(names) if names else "nothing"


def _validate_globals(g, add) -> dict[str, dict]:
    seen: dict[str, dict] = {}
    for p in g["parameters"]:
        name, kind = p.get("name"), p.get("type")
        field = f"parameters.{name}"
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            add(None, field, f"Global parameter name {name!r} is invalid: use letters, digits and '_'.")
        elif name in seen:
            add(None, field, f"Global parameter '{name}' is defined twice.")
        if kind not in TYPES:
            add(None, field, f"Global parameter '{name}' has type {kind!r}; use one of {', '.join(TYPES)}.")
        elif p.get("default") is not None and not value_fits(p["default"], kind):
            add(None, field, f"Default of '{name}' is {with_article(type_of(p['default']))}, not {with_article(kind)}.")
        seen.setdefault(name, p)
    return seen


def _validate_values(g, add) -> None:
    """Global defaults and node values that Airflow, the DAG file or the database cannot take."""
    for p in g["parameters"]:
        problem = json_value_problem(p.get("default"))
        if problem:
            add(None, f"parameters.{text_shown(p.get('name'))}", f"Default of {p.get('name')!r} {problem}.")
    for n in g["nodes"]:
        for name, value in n["parameters"].items():
            problem = json_value_problem(name) or json_value_problem(value)
            if problem:
                add(n["id"], f"parameters.{text_shown(name)}", f"Value of {name!r} {problem}.")


def _validate_schedule(g, add) -> None:
    schedule = g["schedule"]
    if schedule and schedule not in SCHEDULE_PRESETS and not croniter.is_valid(schedule):
        add(None, "schedule", f"Schedule {schedule!r} is neither a cron expression nor one of {', '.join(SCHEDULE_PRESETS)}.")
    try:
        date.fromisoformat(str(g["start_date"]))
    except ValueError:
        add(None, "start_date", f"Start date {g['start_date']!r} is not a date (YYYY-MM-DD).")


def _validate_acyclic(nodes, edges, add) -> set[str]:
    sorter = TopologicalSorter({nid: set() for nid in nodes})
    for e in edges:
        sorter.add(e["target"], e["source"])
    try:
        sorter.prepare()
    except CycleError as e:
        cycle = e.args[1]
        for nid in sorted(set(cycle)):
            add(nid, "edges", f"Cycle: {' → '.join(cycle)}. A workflow must not loop back on itself.")
        return set(cycle)
    return set()


def _validate_node(n, incoming, nodes, notebooks, globals_, cyclic, ancestry, add) -> None:
    nid = n["id"]
    if n["trigger_rule"] not in TRIGGER_RULES:
        add(nid, "trigger_rule", f"Unknown trigger rule {n['trigger_rule']!r}; use one of {', '.join(TRIGGER_RULES)}.")
    if n["notebook"] not in notebooks:
        add(nid, "notebook", f"No notebook '{n['notebook']}' in the catalog.")
        return
    signature = {p["name"]: p for p in notebooks[n["notebook"]]}
    declared = ", ".join(signature) or "no parameters"

    for name, value in n["parameters"].items():
        if name not in signature:
            add(nid, f"parameters.{name}", f"{n['notebook']} has no parameter '{name}' (it declares {declared}).")
        elif not value_fits(value, signature[name]["type"]):
            add(nid, f"parameters.{name}", f"'{name}' expects {with_article(signature[name]['type'])}, got {with_article(type_of(value))}: {value!r}.")

    edge_values = {}
    for e in incoming:
        source = nodes[e["source"]]
        types = output_types(source)
        for output, param in e["bind"].items():
            if param not in signature:
                add(nid, f"parameters.{param}", f"{n['notebook']} has no parameter '{param}' (it declares {declared}).")
                continue
            edge_values[param] = True
            out_type = "list" if source["map_over"] else types.get(output)
            want = signature[param]["type"]
            if out_type and want and out_type != want and not (want == "float" and out_type == "int"):
                add(nid, f"parameters.{param}", f"'{param}' expects {with_article(want)}, but {e['source']}.{output} is {with_article(out_type)}.")

    fan = _validate_map(n, nodes, signature, globals_, cyclic, ancestry, add)

    global_values = {name: p.get("default") for name, p in globals_.items() if name in signature}
    for name, value in global_values.items():
        want = signature[name]["type"]
        if value is not None and not value_fits(value, want):
            add(nid, f"parameters.{name}", f"Global '{name}' is {with_article(type_of(value))}, but {n['notebook']} expects {with_article(want)}.")

    # Which layer gives each parameter a value (the values themselves are known only when it runs).
    resolved = node_parameters(signature, fan=fan, item=True, values=n["parameters"], edge=edge_values, globals=global_values)
    for name, p in signature.items():
        if p.get("required") and name not in resolved:
            add(nid, f"parameters.{name}", f"'{name}' is required ({n['notebook']} sets it to None) and nothing gives it a value.")


def _validate_map(n, nodes, signature, globals_, cyclic, ancestry, add):
    """The node's fan-out, or None if it has none or its items have nowhere to go."""
    nid, fan = n["id"], fan_out(n["map_over"], n["map_parameter"])
    for field in ("max_failed_items", "max_failed_ratio"):
        if n[field] is not None and fan is None:
            add(nid, field, f"{field} applies to a fanned-out node only: set map_over, or clear {field}.")
    if fan is None:
        return None
    if MAP_ITEMS_OUTPUT in output_names(n):
        add(nid, "outputs", f"A fanned-out node cannot declare an output '{MAP_ITEMS_OUTPUT}': Loom gives it (the items of the successful results).")
    over = fan.over
    if fan.node is not None:
        source, output = fan.node, fan.name
        if source not in nodes:
            add(nid, "map_over", f"map_over '{over}' names unknown node '{source}'.")
        elif output not in output_names(nodes[source]):
            add(nid, "map_over", f"map_over '{over}': '{source}' has no output '{output}'.")
        elif nid not in cyclic and not ancestry.runs_before(source, nid):
            add(nid, "map_over", f"map_over '{over}': '{source}' must run before '{nid}'; connect it upstream.")
        elif output_types(nodes[source]).get(output) not in (None, "list"):
            add(nid, "map_over", f"map_over '{over}' is {with_article(output_types(nodes[source])[output])}, not a list.")
    elif over not in globals_:
        add(nid, "map_over", f"map_over '{over}' is neither a global parameter nor an upstream output (node.output).")
    elif globals_[over].get("type") != "list":
        add(nid, "map_over", f"map_over '{over}' is {with_article(globals_[over].get('type'))}, not a list.")
    if fan.parameter not in signature:
        add(nid, "map_parameter", f"Name the parameter of {n['notebook']} that receives each item of '{over}'.")
        return None
    return fan
