"""The run API's answers that need no worker: validation, errors, shapes."""
import pytest

from helpers import notebook_bytes, upload


@pytest.fixture
def wid(api, tenant):
    upload(api, tenant.slug, "a.ipynb", notebook_bytes("x = 1\nitems = []", "y = x"))
    graph = {"name": "w", "parameters": [{"name": "x", "type": "int", "default": 3}],
             "nodes": [{"id": "a", "notebook": "a.ipynb", "outputs": ["y"]}], "edges": []}
    return api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json").json()["id"]


def runs_url(tenant, wid):
    return f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/"


def test_start_answers_the_run_detail(api, tenant, wid):
    response = api.post(runs_url(tenant, wid), {"engine": "local", "parameters": {"x": 5}}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "running" and body["version"] == 1 and body["parameters"] == {"x": 5}
    assert body["created_by"] == "eddie" and body["workflow"] == wid and body["engine"] == "local"
    assert body["nodes"] == [{"node": "a", "map_index": None, "status": "queued", "attempts": 0, "started_at": None,
                              "ended_at": None, "outputs": {}, "error": None, "warnings": [], "items": None,
                              "version": 1, "reused_from": None, "cached_from": None}]
    listed = api.get(runs_url(tenant, wid)).json()
    assert [r["id"] for r in listed] == [body["id"]] and "nodes" not in listed[0]


def test_unknown_or_mistyped_run_parameters_are_named(api, tenant, wid):
    response = api.post(runs_url(tenant, wid), {"parameters": {"x": "five", "nope": 1}}, format="json")
    assert response.status_code == 400
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields == {"parameters.x": "'x' expects an int, got a str: 'five'.",
                      "parameters.nope": "'nope' is not a parameter of this workflow (its parameters: x)."}


def test_an_invalid_graph_is_refused_with_its_errors(api, tenant, wid):
    graph = {"name": "w", "base_version": 1, "nodes": [{"id": "a", "notebook": "missing.ipynb"}], "edges": []}
    assert api.put(f"/api/tenants/{tenant.slug}/workflows/{wid}/", graph, format="json").status_code == 200
    response = api.post(runs_url(tenant, wid), {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"node": "a", "field": "notebook", "message": "No notebook 'missing.ipynb' in the catalog."}]
    assert api.post(runs_url(tenant, wid), {"version": 1}, format="json").status_code == 201  # an older, valid one
    assert api.post(runs_url(tenant, wid), {"version": 9}, format="json").status_code == 404


def test_the_airflow_engine_needs_configuring(api, tenant, wid, settings):
    settings.LOOM_AIRFLOW_URL = ""
    response = api.post(runs_url(tenant, wid), {"engine": "airflow"}, format="json")
    assert response.status_code == 503 and "not configured" in response.json()["detail"]
    assert api.post(runs_url(tenant, wid), {"engine": "spark"}, format="json").status_code == 400


def test_repair_of_an_active_run_is_a_conflict_and_cancel_is_idempotent(api, tenant, wid):
    run = api.post(runs_url(tenant, wid), {}, format="json").json()
    assert api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/repair/").status_code == 409
    first = api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/cancel/").json()
    again = api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/cancel/").json()
    assert first["status"] == again["status"] == "cancelled" and first["nodes"][0]["status"] == "cancelled"
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{run['id']}/nodes/a/notebook/").status_code == 404


def test_a_viewer_reads_but_cannot_start(client_for, viewer, api, tenant, wid):
    run = api.post(runs_url(tenant, wid), {}, format="json").json()
    client = client_for(viewer)
    assert client.get(f"/api/tenants/{tenant.slug}/runs/{run['id']}/").status_code == 200
    assert client.post(runs_url(tenant, wid), {}, format="json").status_code == 403
