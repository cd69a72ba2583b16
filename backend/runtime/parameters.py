"""The rules for a node's parameters and fan-out, shared by validation, both engines and the DAG renderer.

Precedence, highest first: the item of a fanned-out node (map), a run-time override, the
node's own value, an edge binding from an upstream output, the workflow's global parameter
of the same name, the notebook's default. `node_parameters` builds these layers from what a
caller knows about a node; `fan_out` and `fan_out_items` say what a node runs over and who
receives each item. Standard library only: generated DAG files carry this module's source so
that workers need nothing from Loom (see dags/airflow_tasks.py). The editor mirrors the
precedence in frontend/src/graph/params.ts; tests/cases/parameters.json drives both.
"""
from typing import Any, Callable, Mapping, NamedTuple

PRECEDENCE = ("map", "override", "node", "edge", "global", "default")
# A notebook declaring this parameter gets a folder for its files, in place of its own default.
ARTIFACTS_PARAMETER = "artifacts_dir"
# A notebook declaring one of these gets the run's date (ISO 8601, UTC) in place of its own default.
DATE_PARAMETERS = ("logical_date", "data_interval_start", "data_interval_end")
# A fanned-out node's outputs also carry, under this name, the items their values come from.
MAP_ITEMS_OUTPUT = "map_items"
_NO_ITEM = object()


class Resolved(NamedTuple):
    value: Any
    source: str  # one of PRECEDENCE


class FanOut(NamedTuple):
    """What a fanned-out node runs over, and the notebook parameter that receives each item."""

    over: str  # map_over as written: "param" or "node.output"
    node: str | None  # the upstream node whose output is the list; None: a workflow parameter
    name: str  # that output, or the workflow parameter
    parameter: str  # map_parameter, else the last part of map_over


def parameters_resolve(names, **layers: Mapping[str, Any]) -> dict[str, Resolved]:
    """Resolve each declared parameter name against the layers named in PRECEDENCE.

    `layers` maps a layer name to {parameter name: value}; missing layers are empty. A name
    that no layer supplies is left out, so the notebook keeps whatever its cell says.
    """
    unknown = set(layers) - set(PRECEDENCE)
    if unknown:
        raise TypeError(f"unknown parameter layers: {sorted(unknown)}")
    resolved = {}
    for name in names:
        for layer in PRECEDENCE:
            values = layers.get(layer) or {}
            if name in values:
                resolved[name] = Resolved(values[name], layer)
                break
    return resolved


def node_parameters(
    names,
    *,
    fan: FanOut | None = None,
    item: Any = _NO_ITEM,
    overrides: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    edge: Mapping[str, Any] | None = None,
    globals: Mapping[str, Any] | None = None,
    artifacts_dir: str | None = None,
    dates: Mapping[str, str] | None = None,
) -> dict[str, Resolved]:
    """A node's parameters, by the one precedence, from what the caller knows.

    `fan` and `item`: the node's fan-out and the item of this run (the map layer; no item,
    no map layer); `overrides`: the run's parameters; `values`: the node's own `parameters`;
    `edge`: from `edge_layer`; `globals`: {name: value} of the workflow's global parameters,
    where None gives nothing (a global without a default); `artifacts_dir`: Loom's folder
    for the node's files, given to ARTIFACTS_PARAMETER in place of the notebook default;
    `dates`: the run's DATE_PARAMETERS, likewise.
    """
    loom = {k: v for k, v in (dates or {}).items() if k in DATE_PARAMETERS}
    if artifacts_dir is not None:
        loom[ARTIFACTS_PARAMETER] = artifacts_dir
    return parameters_resolve(
        names,
        map={fan.parameter: item} if fan is not None and item is not _NO_ITEM else {},
        override=overrides or {},
        node=values or {},
        edge=edge or {},
        default=loom,
        **{"global": {k: v for k, v in (globals or {}).items() if v is not None}},
    )


def edge_layer(bindings: Mapping[str, Mapping[str, str]], outputs: Callable[[str], Mapping | None]) -> dict:
    """{parameter: value} from the node's edge bindings, {upstream node: {output: parameter}}.

    `outputs(node)` gives an upstream node's outputs, or None when it has none (it failed
    before an all_done node, say): its bindings give nothing and lower layers apply.
    """
    layer = {}
    for source, binding in bindings.items():
        given = outputs(source)
        if given is not None:
            layer.update({parameter: given[output] for output, parameter in binding.items() if output in given})
    return layer


def fan_out(map_over: str | None, map_parameter: str | None = None) -> FanOut | None:
    """A node's fan-out from its `map_over` and `map_parameter`; None when it does not fan out.

    `map_over` is "node.output" (an upstream output) or a global parameter's name; each item
    goes to `map_parameter`, else to the parameter named like the output or global.
    """
    if not map_over:
        return None
    node, dot, name = map_over.partition(".")
    if not dot:
        node, name = None, map_over
    return FanOut(map_over, node, name, map_parameter or map_over.rpartition(".")[2])


def fan_out_items(
    fan: FanOut,
    *,
    upstream: Mapping | None = None,
    overrides: Mapping[str, Any] | None = None,
    globals: Mapping[str, Any] | None = None,
) -> list:
    """The list a fanned-out node runs over; TypeError naming `map_over` when there is none.

    `upstream`: the outputs of `fan.node` (None if it did not succeed); `overrides` and
    `globals`: as for `node_parameters`, for a fan-out over a global parameter.
    """
    if fan.node is not None:
        if upstream is None:
            raise TypeError(f"map_over '{fan.over}': '{fan.node}' did not succeed, so there is no list to map over.")
        items = upstream.get(fan.name)
    else:
        resolved = node_parameters([fan.name], overrides=overrides, globals=globals)
        items = resolved[fan.name].value if fan.name in resolved else None
    if not isinstance(items, list):
        raise TypeError(f"map_over '{fan.over}' is {type(items).__name__}, not a list.")
    return items


def failures_allowed(node: Mapping, items: int) -> int:
    """How many of a fanned-out node's `items` may fail with the node still succeeding:
    `max_failed_items`, or `max_failed_ratio` of the items rounded down, the smaller when both
    are set; none when neither is (one failed item fails the node)."""
    allowed = []
    if node.get("max_failed_items") is not None:
        allowed.append(node["max_failed_items"])
    if node.get("max_failed_ratio") is not None:
        allowed.append(int(node["max_failed_ratio"] * items + 1e-9))
    return min(allowed, default=0)


def fan_in(outputs, results: list) -> dict:
    """A fanned-out node's outputs from its items (when no more failed than failures_allowed).

    `results`: (item value, the item's outputs, or None when it did not succeed), in item order.
    Each declared output is the list of the successful items' values, in item order, and
    MAP_ITEMS_OUTPUT the list of their items, so that lists stay aligned when items fail.
    """
    ok = [(item, given) for item, given in results if given is not None]
    return {
        **{name: [given.get(name) for _, given in ok] for name in outputs},
        MAP_ITEMS_OUTPUT: [item for item, _ in ok],
    }
