"""The shared parameter cases (tests/cases/parameters.json) against the backend's rules.

The editor's mirror (frontend/src/graph/params.ts) runs the same cases in
frontend/src/graph/params.test.ts, so the two cannot drift apart."""
import json
from pathlib import Path

import pytest

from runtime.parameters import edge_layer, fan_out, node_parameters
from workflows.validation import graph_validate

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "parameters.json").read_text())["cases"]


def _node(case) -> dict:
    return {"map_over": None, "map_parameter": None, "parameters": {}, **case.get("node", {})}


def _upstream_outputs(case) -> dict:
    return {**case.get("upstream", {}), **{e["output"]: e["value"] for e in case.get("edges", [])}}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_parameter_gets_the_expected_layer_at_run_time(case):
    node = _node(case)
    fan = fan_out(node["map_over"], node["map_parameter"])
    bindings = {"up": {e["output"]: e["parameter"] for e in case.get("edges", [])}}
    resolved = node_parameters(
        [p["name"] for p in case["signature"]],
        fan=fan,
        item=case.get("item"),
        overrides=case.get("overrides", {}),
        values=node["parameters"],
        edge=edge_layer(bindings, {"up": _upstream_outputs(case)}.get),
        globals={g["name"]: g["default"] for g in case.get("globals", [])},
    )
    for name, expect in case["expect"].items():
        if expect is None or expect["layer"] == "default":
            # Nothing given: the notebook keeps its own default (papermill injects nothing).
            assert name not in resolved, name
        else:
            assert resolved[name] == (expect["value"], expect["layer"]), name


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_validation_reports_exactly_the_required_parameters_nothing_gives(case):
    node = {"id": "n", "notebook": "nb.ipynb", **_node(case)}
    up = {"id": "up", "notebook": "up.ipynb", "outputs": sorted(_upstream_outputs(case))}
    graph = {
        "name": "case",
        "parameters": case.get("globals", []),
        "nodes": [up, node],
        "edges": [{"source": "up", "target": "n", "bind": {e["output"]: e["parameter"] for e in case.get("edges", [])}}],
    }
    notebooks = {"nb.ipynb": case["signature"], "up.ipynb": []}
    errors = graph_validate(graph, notebooks=notebooks)
    missing = {e.field.removeprefix("parameters.") for e in errors if "is required" in e.message}
    assert missing == {name for name, expect in case["expect"].items() if expect is None}
    assert [e for e in errors if e.field in ("map_over", "map_parameter")] == []
