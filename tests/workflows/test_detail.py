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


def _graph_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if '."graph"' in q["sql"]]


def test_a_conditional_get_is_answered_304_without_reading_the_graph(api, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wid = api.post(URL, {"name": "w", "nodes": [{"id": "a", "notebook": "x.ipynb", "pool": "gpu"}]}, format="json").json()["id"]
    first = api.get(f"{URL}{wid}/")
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first["Cache-Control"] == "private, no-cache"
    with CaptureQueriesContext(connection) as queries:
        again = api.get(f"{URL}{wid}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert not _graph_reads(queries)
    assert api.get(f"{URL}{wid}/", HTTP_IF_NONE_MATCH='"other"').status_code == 200

    # What the answer shows beside the graph changes it too: here the pools the tenant has.
    tenant.pools = {"gpu": 1}
    tenant.save()
    fixed = api.get(f"{URL}{wid}/", HTTP_IF_NONE_MATCH=etag)
    assert fixed.status_code == 200 and fixed["ETag"] != etag
    assert [e["field"] for e in fixed.json()["errors"]] == ["notebook"] != [e["field"] for e in first.json()["errors"]]
    assert api.get(f"{URL}{wid}/", HTTP_IF_NONE_MATCH=fixed["ETag"]).status_code == 304

    # A new version: the latest is another answer; the first version's is still that of ?version=1,
    # except for latest_version, which it shows.
    assert api.put(f"{URL}{wid}/", {"name": "w2", "base_version": 1}, format="json").status_code == 200
    latest = api.get(f"{URL}{wid}/", HTTP_IF_NONE_MATCH=fixed["ETag"])
    assert latest.status_code == 200 and latest.json()["graph"]["name"] == "w2"
    old = api.get(f"{URL}{wid}/?version=1")
    assert old.json()["graph"]["name"] == "w" and old["ETag"] not in (fixed["ETag"], latest["ETag"])
    assert api.get(f"{URL}{wid}/?version=1", HTTP_IF_NONE_MATCH=old["ETag"]).status_code == 304


def test_each_version_s_graph_is_read_once_by_a_process(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wid = api.post(URL, {"name": "w"}, format="json").json()["id"]
    with CaptureQueriesContext(connection) as first:
        assert api.get(f"{URL}{wid}/").json()["graph"]["name"] == "w"
    with CaptureQueriesContext(connection) as second:
        assert api.get(f"{URL}{wid}/").json()["graph"]["name"] == "w"
    assert len(_graph_reads(first)) == 1 and not _graph_reads(second)
    assert len(second) == len(first) - 1
    # A save makes a new version, whose graph is read once in turn.
    assert api.put(f"{URL}{wid}/", {"name": "w2", "base_version": 1}, format="json").status_code == 200
    assert api.get(f"{URL}{wid}/").json()["graph"]["name"] == "w2"
    assert api.get(f"{URL}{wid}/?version=1").json()["graph"]["name"] == "w"
