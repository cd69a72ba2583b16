"""The size limits of a workflow (docs/workflow-graph.md, "Limits"): more is a 400 naming the
limit and its setting, and nothing is saved."""
import pytest

from workflows.models import Workflow

URL = "/api/tenants/acme/workflows/"


def chain(n: int) -> dict:
    nodes = [{"id": f"n{i}", "notebook": "x.ipynb"} for i in range(n)]
    return {"name": "big", "nodes": nodes, "edges": [{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(n - 1)]}


def test_nodes_and_edges_up_to_the_limits_and_no_more(api, settings):
    settings.LOOM_GRAPH_MAX_NODES, settings.LOOM_GRAPH_MAX_EDGES = 4, 2
    assert api.post(URL, chain(3), format="json").status_code == 201

    too_many = api.post(URL, chain(5), format="json")
    assert too_many.status_code == 400
    assert too_many.json() == {"nodes": ["The graph has 5 nodes; the limit is 4 (LOOM_GRAPH_MAX_NODES)."]}
    edges = api.post(URL, chain(4), format="json")
    assert edges.status_code == 400
    assert edges.json() == {"edges": ["The graph has 3 edges; the limit is 2 (LOOM_GRAPH_MAX_EDGES)."]}
    validate = api.post(f"{URL}{Workflow.objects.get().pk}/validate/", {"graph": chain(5)}, format="json")
    assert validate.status_code == 400 and "LOOM_GRAPH_MAX_NODES" in str(validate.json())
    assert Workflow.objects.count() == 1


@pytest.mark.parametrize("where", ["node", "global"])
def test_a_parameter_value_larger_than_the_limit_is_refused(api, settings, where):
    settings.LOOM_VALUE_MAX_BYTES = 100
    fits, big = ["é" * 20] * 2, ["é" * 30] * 2  # 88 and 128 bytes as JSON (é is 2 bytes)

    def graph(value):
        if where == "node":
            return {"name": "g", "nodes": [{"id": "a", "notebook": "x.ipynb", "parameters": {"ids": value}}]}
        return {"name": "g", "parameters": [{"name": "ids", "type": "list", "default": value}]}

    assert api.post(URL, graph(fits), format="json").status_code == 201
    response = api.post(URL, graph(big), format="json")
    assert response.status_code == 400
    message = "The value is 128 bytes as JSON; the limit is 100 bytes (LOOM_VALUE_MAX_BYTES)."
    expected = {"nodes": {"0": {"parameters": {"ids": [message]}}}} if where == "node" else {"parameters": {"0": {"default": [message]}}}
    assert response.json() == expected
    assert Workflow.objects.count() == 1


def test_a_run_parameter_larger_than_the_limit_is_refused(api, settings):
    settings.LOOM_VALUE_MAX_BYTES = 100
    wid = api.post(URL, {"name": "g", "parameters": [{"name": "ids", "type": "list"}]}, format="json").json()["id"]
    response = api.post(f"{URL}{wid}/runs/", {"parameters": {"ids": ["x" * 200]}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"parameters": {"ids": ["The value is 204 bytes as JSON; the limit is 100 bytes (LOOM_VALUE_MAX_BYTES)."]}}
    assert not Workflow.objects.get().runs.exists()
