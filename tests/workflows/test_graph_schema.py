"""workflows.graph's defaults are the one source of the graph's defaults: the serializers fill
them in, and the OpenAPI schema the editor's types are generated from states them."""
import json
from pathlib import Path

from workflows.graph import EDGE_DEFAULTS, GRAPH_DEFAULTS, NODE_DEFAULTS, graph_normalize
from workflows.serializers import GraphSerializer

SCHEMA = Path(__file__).resolve().parents[2] / "frontend" / "src" / "api" / "openapi.json"


def test_the_serializer_fills_in_the_graph_defaults():
    data = GraphSerializer(data={"name": "w", "nodes": [{"id": "a", "notebook": "n.ipynb"}],
                                 "edges": [{"source": "a", "target": "a"}]})
    assert data.is_valid(), data.errors
    graph = data.validated_data
    assert graph == {"name": "w", **GRAPH_DEFAULTS, "nodes": graph["nodes"], "edges": graph["edges"]}
    assert graph["nodes"] == [{"id": "a", "notebook": "n.ipynb", **NODE_DEFAULTS}]
    assert graph["edges"] == [{"source": "a", "target": "a", **EDGE_DEFAULTS}]
    assert graph_normalize({"name": "w", "nodes": [{"id": "a", "notebook": "n.ipynb"}],
                            "edges": [{"source": "a", "target": "a"}]}) == graph


def test_defaults_are_fresh_copies():
    first = graph_normalize({"name": "w", "nodes": [{"id": "a", "notebook": "n"}, {"id": "b", "notebook": "n"}]})
    first["nodes"][0]["parameters"]["x"] = 1
    first["nodes"][0]["outputs"].append("o")
    assert first["nodes"][1]["parameters"] == {} and NODE_DEFAULTS["parameters"] == {} and NODE_DEFAULTS["outputs"] == []


def test_the_checked_in_schema_states_the_defaults_and_a_saved_graph_has_every_field():
    schemas = json.loads(SCHEMA.read_text())["components"]["schemas"]
    for component, defaults in (("Node", NODE_DEFAULTS), ("Graph", GRAPH_DEFAULTS), ("Edge", EDGE_DEFAULTS)):
        properties = schemas[component]["properties"]
        assert {k: properties[k]["default"] for k in properties if "default" in properties[k]} == defaults, component
        assert set(schemas[component]["required"]) == set(properties), component
        assert "required" not in schemas[component + "Request"] or set(schemas[component + "Request"]["required"]) \
            == set(properties) - set(defaults), component
