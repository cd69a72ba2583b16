"""A workflow's GET sends the stored graph as the database has it (loom.renderers.RawJSON):
the same graph, in well-formed JSON, whatever characters it holds."""
import json

from workflows.models import WorkflowVersion

URL = "/api/tenants/acme/workflows/"


def test_the_graph_comes_back_as_saved(api):
    odd = 'Ünïcødé "quotes" \\ back\nnewline 🚀 \u2028line\u2029para </script>'
    graph = {"name": odd, "description": odd, "tags": [odd],
             "parameters": [{"name": "p", "type": "dict", "default": {odd: [1, 2.5, None, True, {"k": odd}]}}],
             "nodes": [{"id": "a", "notebook": "x.ipynb", "parameters": {"v": odd}, "position": {"x": 1.5, "y": -2}}]}
    created = api.post(URL, graph, format="json")
    assert created.status_code == 201
    response = api.get(f"{URL}{created.json()['id']}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert b"\xe2\x80\xa8" not in response.content, "U+2028 is escaped, as in the rest of the API"
    body = json.loads(response.content)
    assert body["graph"] == created.json()["graph"] == WorkflowVersion.objects.get().graph
    assert body["graph"]["nodes"][0]["parameters"]["v"] == odd
    assert {k: v for k, v in body.items() if k != "graph"} == {k: v for k, v in created.json().items() if k != "graph"}


def test_a_missing_workflow_or_version_is_a_404_saying_which(api, client_for, make_user, other_tenant):
    wid = api.post(URL, {"name": "w"}, format="json").json()["id"]
    assert api.put(f"{URL}{wid}/", {"name": "w2", "base_version": 1}, format="json").status_code == 200
    assert api.get(f"{URL}{wid}/?version=1").json()["graph"]["name"] == "w"
    assert api.get(f"{URL}{wid}/").json()["graph"]["name"] == "w2"
    assert api.get(f"{URL}{wid}/?version=3").json() == {"detail": "Workflow 'w2' has no version 3."}
    assert api.get(f"{URL}{wid}/?version=x").json() == {"detail": "Workflow 'w2' has no version x."}
    outsider = client_for(make_user("olga", other_tenant))
    assert outsider.get(f"/api/tenants/globex/workflows/{wid}/").status_code == 404
