"""A saved version is validated once, when it is saved; reads serve what it kept, and still see
what changed outside it: the tenant's connections, a deleted notebook it pinned, newer rules."""
import pytest

from helpers import notebook_bytes, upload
from tenancy.models import Connection
from workflows import selectors
from workflows.models import WorkflowVersion

URL = "/api/tenants/acme/workflows/"
TRAIN = notebook_bytes("account = None\nrate = 0.1")


@pytest.fixture
def catalog(api):
    upload(api, "acme", "load.ipynb", notebook_bytes('source = "db"\nlimit = 10'))
    upload(api, "acme", "train.ipynb", TRAIN)


@pytest.fixture
def validations(monkeypatch):
    """Counts the graph validations the code under test runs."""
    calls = []
    real = selectors.graph_validate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "graph_validate", counted)
    return calls


def graph(**kw):
    return {"name": "Kept", "nodes": [
        {"id": "load", "notebook": "load.ipynb", "parameters": {"limit": "ten"}},  # a problem: limit is an int
        {"id": "train", "notebook": "train.ipynb", "parameters": {"account": "acme"}, "connections": ["lake"]},
    ], **kw}


def test_a_version_is_validated_when_saved_and_never_on_read(api, catalog, validations):
    body = api.post(URL, graph(), format="json").json()
    assert len(validations) == 1
    problems = {(e["node"], e["field"]) for e in body["errors"]}
    assert problems == {("load", "parameters.limit"), ("train", "connections")}
    kept = WorkflowVersion.objects.get().validation
    assert kept["rules"] == selectors.RULES and [e["node"] for e in kept["errors"]] == ["load"]

    for path in (f"{URL}{body['id']}/", f"{URL}{body['id']}/?version=1"):
        assert api.get(path).json()["errors"] == body["errors"]
    assert api.post(f"{URL}{body['id']}/validate/", {}, format="json").json()["errors"] == body["errors"]
    assert len(validations) == 1


def test_connections_are_checked_on_every_read(api, admin_api, catalog, validations):
    wid = api.post(URL, graph(), format="json").json()["id"]
    created = admin_api.post("/api/tenants/acme/connections/", {"name": "lake", "kind": "http"}, format="json")
    assert created.status_code == 201, created.json()
    assert [e["node"] for e in api.get(f"{URL}{wid}/").json()["errors"]] == ["load"]
    Connection.objects.filter(name="lake").delete()
    assert {e["node"] for e in api.get(f"{URL}{wid}/").json()["errors"]} == {"load", "train"}
    assert len(validations) == 1


def test_a_deleted_notebook_an_old_version_pinned_shows_until_its_content_is_back(api, catalog):
    first = api.post(URL, graph(), format="json").json()
    only_load = graph(nodes=graph()["nodes"][:1])
    assert api.put(f"{URL}{first['id']}/", {**only_load, "base_version": 1}, format="json").status_code == 200
    train = api.get("/api/tenants/acme/notebooks/").json()
    assert api.delete(f"/api/tenants/acme/notebooks/{next(n['id'] for n in train if n['name'] == 'train.ipynb')}/").status_code == 204

    old = api.get(f"{URL}{first['id']}/?version=1").json()["errors"]
    assert {"node": "train", "field": "notebook", "message": "No notebook 'train.ipynb' in the catalog."} in old
    kept = WorkflowVersion.objects.get(number=1).validation
    assert all(e["field"] != "notebook" for e in kept["errors"]), "what a deletion causes is not kept"

    upload(api, "acme", "train.ipynb", TRAIN)
    assert api.get(f"{URL}{first['id']}/?version=1").json()["errors"] == first["errors"]


def test_versions_kept_under_other_rules_or_none_are_checked_again_once(api, catalog, validations):
    wid = api.post(URL, graph(), format="json").json()["id"]
    expected = api.get(f"{URL}{wid}/").json()["errors"]
    for stale in ({"rules": "older", "errors": []}, None):  # upgraded rules; saved before versions kept any
        WorkflowVersion.objects.update(validation=stale)
        validations.clear()
        assert api.get(f"{URL}{wid}/").json()["errors"] == expected
        assert api.get(f"{URL}{wid}/").json()["errors"] == expected
        assert len(validations) == 1
        assert WorkflowVersion.objects.get().validation["rules"] == selectors.RULES


def test_pools_and_queues_are_checked_against_the_tenant_on_every_read(api, tenant, catalog, validations):
    tenant.pools, tenant.allowed_queues = {}, []
    tenant.save()
    nodes = [{"id": "load", "notebook": "load.ipynb", "pool": "gpu", "queue": "fast"}]
    wid = api.post(URL, {"name": "placed", "nodes": nodes}, format="json").json()["id"]
    assert {(e["node"], e["field"]) for e in api.get(f"{URL}{wid}/").json()["errors"]} == {("load", "pool"), ("load", "queue")}
    tenant.pools, tenant.allowed_queues = {"gpu": 1}, ["fast"]
    tenant.save()
    assert api.get(f"{URL}{wid}/").json()["errors"] == []
    assert len(validations) == 1


def test_a_read_asks_whether_the_pinned_notebooks_exist_only_after_the_tenant_deleted_one(api, catalog, monkeypatch):
    asked, real = [], selectors._pins_intact
    monkeypatch.setattr(selectors, "_pins_intact", lambda version: asked.append(version.number) or real(version))
    wid = api.post(URL, graph(), format="json").json()["id"]
    upload(api, "acme", "spare.ipynb", notebook_bytes("x = 1"))
    for _ in range(3):
        api.get(f"{URL}{wid}/")
    assert asked == []

    spare = next(n["id"] for n in api.get("/api/tenants/acme/notebooks/").json() if n["name"] == "spare.ipynb")
    assert api.delete(f"/api/tenants/acme/notebooks/{spare}/").status_code == 204
    for _ in range(3):
        assert [e["node"] for e in api.get(f"{URL}{wid}/").json()["errors"]] == ["load", "train"]
    assert asked == [1]  # once: the answer (all still there) is kept with the new count
