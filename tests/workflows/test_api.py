import threading

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from rest_framework.fields import DateTimeField

from helpers import notebook_bytes, upload
from runs.models import Run
from workflows.graph import graph_normalize
from workflows.models import Workflow, WorkflowVersion
from workflows.services import workflow_create

URL = "/api/tenants/acme/workflows/"


@pytest.fixture
def catalog(api):
    upload(api, "acme", "load.ipynb", notebook_bytes('source = "db"\nlimit = 10'))
    upload(api, "acme", "train.ipynb", notebook_bytes("account = None\nrate = 0.1"))


def graph(**kw):
    return {
        "name": "Demo",
        "parameters": [{"name": "limit", "type": "int", "default": 5}],
        "nodes": [{"id": "load", "notebook": "load.ipynb", "outputs": ["path"], "position": {"x": 10, "y": 20}},
                  {"id": "train", "notebook": "train.ipynb", "parameters": {"account": "acme"}}],
        "edges": [{"source": "load", "target": "train", "bind": {}}],
        **kw,
    }


def test_create_read_update_delete(api, catalog):
    created = api.post(URL, graph(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["version"] == 1 and body["errors"] == []
    node = body["graph"]["nodes"][0]
    assert node["retries"] == 0 and node["trigger_rule"] == "all_success" and node["position"] == {"x": 10, "y": 20}
    assert set(body["notebook_pins"]) == {"load.ipynb", "train.ipynb"}

    wid = body["id"]
    updated = api.put(f"{URL}{wid}/", graph(name="Renamed", base_version=1), format="json")
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert [w["name"] for w in api.get(URL).json()] == ["Renamed"]
    assert [v["number"] for v in api.get(f"{URL}{wid}/versions/").json()] == [2, 1]
    assert api.get(f"{URL}{wid}/?version=1").json()["graph"]["name"] == "Demo"
    assert api.get(f"{URL}{wid}/?version=7").status_code == 404

    assert api.delete(f"{URL}{wid}/").status_code == 204
    assert not Workflow.objects.exists() and not WorkflowVersion.objects.exists()


def test_versions_pin_the_notebook_versions_they_were_saved_against(api, catalog):
    wid = api.post(URL, graph(), format="json").json()["id"]
    upload(api, "acme", "load.ipynb", notebook_bytes('source = "db"\nlimit = "now a string"'))
    v1 = api.get(f"{URL}{wid}/").json()
    assert v1["notebook_pins"]["load.ipynb"]["version"] == 1 and v1["errors"] == []
    v2 = api.put(f"{URL}{wid}/", graph(base_version=1), format="json").json()
    assert v2["notebook_pins"]["load.ipynb"]["version"] == 2
    assert v2["errors"] == [{"node": "load", "field": "parameters.limit",
                             "message": "Global 'limit' is an int, but load.ipynb expects a str."}]


def test_invalid_graph_is_saved_as_a_draft_and_validate_reports_it(api, catalog):
    draft = graph(nodes=[{"id": "train", "notebook": "train.ipynb"}], edges=[])
    body = api.post(URL, draft, format="json").json()
    assert body["version"] == 1
    expected = [{"node": "train", "field": "parameters.account",
                 "message": "'account' is required (train.ipynb sets it to None) and nothing gives it a value."}]
    assert body["errors"] == expected
    assert api.post(f"{URL}{body['id']}/validate/", {}, format="json").json() == {"valid": False, "errors": expected}
    fixed = graph(nodes=[{"id": "train", "notebook": "train.ipynb", "parameters": {"account": "x"}}], edges=[])
    assert api.post(f"{URL}{body['id']}/validate/", {"graph": fixed}, format="json").json() == {"valid": True, "errors": []}


@pytest.mark.parametrize("payload,field", [
    ({"nodes": []}, "name"),
    ({"name": "x", "nodes": "not a list"}, "nodes"),
    ({"name": "x", "nodes": [{"id": "a"}]}, "nodes"),
    ({"name": "x", "nodes": [{"id": "a", "notebook": "n.ipynb", "retries": -1}]}, "nodes"),
    ({"name": "x", "nodes": [{"id": "a", "notebook": "n.ipynb", "timeout_s": 10 ** 12}]}, "nodes"),
    ({"name": "x", "nodes": [{"id": "a", "notebook": "n.ipynb", "outputs": [3]}]}, "nodes"),
    ({"name": "x", "edges": [{"source": "a"}]}, "edges"),
    ({"name": "x", "nodes": [{"id": "a", "notebook": "n.ipynb", "parameters": {"p": "nul\u0000byte"}}]}, "nodes"),
    ({"name": "x", "parameters": [{"name": "p", "type": "str", "default": "\u0000"}]}, "parameters"),
])
def test_malformed_graphs_get_400_naming_the_field_and_save_nothing(api, payload, field):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Workflow.objects.exists()


def test_odd_characters_round_trip(api, catalog):
    name = "Ünïcødé \"quotes\" '''triple''' {{ jinja }} {% tag %} \\ back\nnewline 🚀"
    body = api.post(URL, graph(name=name, description=name), format="json").json()
    assert api.get(f"{URL}{body['id']}/").json()["graph"]["name"] == name


def test_huge_payload_is_refused(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(URL, graph(description="x" * 9000, name="y" * 100) | {"tags": ["z" * 100] * 20}, format="json")
    assert response.status_code in (400, 413)
    assert not Workflow.objects.exists()


def test_stale_save_gets_409_and_nothing_is_lost(api, client_for, make_user, tenant, catalog):
    """Two editors open version 1 and both save."""
    other = client_for(make_user("zoe", tenant, "editor"))
    wid = api.post(URL, graph(), format="json").json()["id"]
    mine = api.put(f"{URL}{wid}/", graph(name="Mine", base_version=1), format="json")
    theirs = other.put(f"{URL}{wid}/", graph(name="Theirs", base_version=1), format="json")
    assert mine.status_code == 200
    assert theirs.status_code == 409
    body = theirs.json()
    assert body["current_version"] == 2 and body["current"]["graph"]["name"] == "Mine"
    assert "saved by someone else" in body["detail"]
    # The loser decides to overwrite, on top of the version they were shown: both saves are kept.
    again = other.put(f"{URL}{wid}/", graph(name="Theirs", base_version=2), format="json")
    assert again.status_code == 200 and again.json()["version"] == 3
    names = [WorkflowVersion.objects.get(workflow_id=wid, number=n).graph["name"] for n in (1, 2, 3)]
    assert names == ["Demo", "Mine", "Theirs"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_one_base_let_exactly_one_win(client_for, make_user, tenant):
    wid = client_for(make_user("w0", tenant, "editor")).post(URL, graph(nodes=[], edges=[]), format="json").json()["id"]
    clients = [client_for(make_user(f"w{i}", tenant, "editor")) for i in range(1, 7)]
    barrier, statuses = threading.Barrier(len(clients)), []

    def save(i, client):
        barrier.wait()
        try:
            statuses.append(client.put(f"{URL}{wid}/", graph(name=f"save {i}", nodes=[], edges=[], base_version=1), format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * (len(clients) - 1)
    assert list(WorkflowVersion.objects.filter(workflow_id=wid).order_by("number").values_list("number", flat=True)) == [1, 2]


def _workflows_with_runs(tenant, count: int) -> list[Run]:
    """`count` more workflows, each with two runs; returns each one's last run."""
    last = []
    for i in range(count):
        version = workflow_create(tenant=tenant, graph={"name": f"w{Workflow.objects.count()}", "nodes": []})
        for status in ("failed", "success"):
            run = Run.objects.create(tenant=tenant, workflow=version.workflow, version=version, status=status)
        last.append(run)
    return last


def test_the_workflow_list_reads_last_runs_without_a_query_per_workflow(api, tenant):
    def listed():
        with CaptureQueriesContext(connection) as queries:
            response = api.get(URL)
        assert response.status_code == 200
        return response.json(), len(queries)

    runless = workflow_create(tenant=tenant, graph={"name": "never run", "nodes": []}).workflow
    last = _workflows_with_runs(tenant, 2)
    body, with_two = listed()
    assert next(w for w in body if w["id"] == runless.pk)["last_run"] is None
    last += _workflows_with_runs(tenant, 8)
    body, with_ten = listed()
    assert with_ten == with_two
    shown = {w["id"]: w["last_run"] for w in body}
    assert len(shown) == 11
    for run in last:
        assert shown[run.workflow_id]["id"] == run.pk and shown[run.workflow_id]["status"] == "success"
        assert shown[run.workflow_id]["created_at"] == DateTimeField().to_representation(run.created_at)


@pytest.mark.django_db(transaction=True)
def test_the_migration_normalizes_stored_graphs(tenant):
    executor = MigrationExecutor(connection)
    executor.migrate([("workflows", "0001_initial")])
    apps = executor.loader.project_state([("workflows", "0001_initial")]).apps
    old = apps.get_model("workflows", "Workflow").objects.create(tenant_id=tenant.pk, name="old", latest_version=1)
    bare = {"name": "old", "nodes": [{"id": "a", "notebook": "a.ipynb"}], "edges": [{"source": "a", "target": "a"}]}
    apps.get_model("workflows", "WorkflowVersion").objects.create(workflow_id=old.pk, number=1, graph=bare)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert WorkflowVersion.objects.get(workflow_id=old.pk).graph == graph_normalize(bare)
