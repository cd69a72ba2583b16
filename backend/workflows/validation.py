"""What a workflow graph may mean: every problem at once, each naming the node (or None for
workflow-level problems) and the field, so the editor can show it where it belongs. Pure, no
Django; the graph's shape and ordering are workflows.graph's.
"""
from datetime import date
from graphlib import CycleError, TopologicalSorter
from typing import Iterable, Mapping

from croniter import croniter

from catalog.inspection import TYPES, type_of, value_fits
from loom.values import json_value_problem, text_shown
from runtime.parameters import MAP_ITEMS_OUTPUT, fan_out, node_parameters
from workflows.graph import (
    ALERT_EVENTS,
    IDENTIFIER,
    NODE_DEFAULTS,
    SCHEDULE_PRESETS,
    TRIGGER_RULES,
    given_outputs,
    graph_normalize,
    GraphError,
    output_names,
    output_types,
    reachable,
)


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
            return a in reachable({"edges": self.edges}, b, "target", "source")
        return bool(self.bits[b] >> self.index[a] & 1)


def graph_validate(graph: Mapping, *, notebooks: Mapping[str, list[dict]], connections: Iterable[str] | None = (),
                   pools: Iterable[str] | None = None, queues: Iterable[str] | None = None,
                   channels: Iterable[str] | None = None) -> list[GraphError]:
    """Every problem of a (shape-checked) graph, given the tenant's notebook signatures by name,
    and, unless None, its connection names, the pools and queues its nodes may name (the
    tenant's, README "Roles") and its notification channels' names. Near-linear in nodes + edges."""
    g = graph_normalize(graph)
    errors: list[GraphError] = []
    add = lambda node, field, message: errors.append(GraphError(node, field, message))  # noqa: E731

    globals_ = _validate_globals(g, add)
    _validate_values(g, add)
    _validate_schedule(g, add)
    _validate_alerts(g, add)

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
    if channels is not None:
        errors.extend(alert_errors(alert_uses(g), channels))
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


def alert_uses(graph: Mapping) -> list[list]:
    """[rule index, channel name] for each alert rule."""
    return [[i, rule.get("channel")] for i, rule in enumerate(graph.get("alerts") or ()) if isinstance(rule, Mapping)]


def alert_errors(uses: Iterable, channels: Iterable[str]) -> list[GraphError]:
    """Each alert rule naming a channel the tenant does not have."""
    channels = set(channels)
    return [GraphError(None, f"alerts[{i}].channel", f"No notification channel named '{name}' in this tenant "
                                                     f"(it has: {_names(sorted(channels))}); an admin adds channels.")
            for i, name in uses if name not in channels]


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


def _validate_alerts(g, add) -> None:
    for i, rule in enumerate(g["alerts"]):
        field = f"alerts[{i}]"
        on = rule["on"] if isinstance(rule["on"], list) else []
        unknown = [e for e in on if e not in ALERT_EVENTS]
        if not on or unknown:
            add(None, f"{field}.on", f"Alert rule {i + 1}: 'on' lists events among {', '.join(ALERT_EVENTS)}"
                                     + (f"; not {', '.join(map(repr, unknown))}." if unknown else "."))
        limit = rule["duration_s"]
        if "duration" in on and not (isinstance(limit, int) and not isinstance(limit, bool) and limit > 0):
            add(None, f"{field}.duration_s", f"Alert rule {i + 1} is on 'duration': give duration_s, the seconds a run may take.")
        elif limit is not None and "duration" not in on:
            add(None, f"{field}.duration_s", f"Alert rule {i + 1}: duration_s applies to the 'duration' event only; add it to 'on', or clear duration_s.")


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
    if not isinstance(n.get("cache", True), bool):
        add(nid, "cache", f"cache is true or false (false: always run, for a notebook that reads the clock or external data), not {n['cache']!r}.")
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
    # Fields that only mean something on a fanned-out node: set (away from the default) on another, a mistake.
    for field in ("max_failed_items", "max_failed_ratio", "reuse_kernel"):
        if n[field] != NODE_DEFAULTS[field] and fan is None:
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
