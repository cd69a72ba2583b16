"""The one rule for a parameter's value, shared by both engines and the DAG renderer.

Precedence, highest first: the item of a fanned-out node (map), a run-time override, the
node's own value, an edge binding from an upstream output, the workflow's global parameter
of the same name, the notebook's default. Standard library only: generated DAG files carry
this module's source so that workers need nothing from Loom.
"""
from typing import Any, Mapping, NamedTuple

PRECEDENCE = ("map", "override", "node", "edge", "global", "default")


class Resolved(NamedTuple):
    value: Any
    source: str  # one of PRECEDENCE


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
