"""Run history that answers questions (issue 15): each run's trigger, who started it, the
parameters that differ from the defaults, its duration; the tenant's runs page with filters.
No worker: runs stay queued or running here."""
import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from helpers import notebook_bytes, upload
from runs.models import Run, Status


@pytest.fixture
def wid(api, tenant):
    upload(api, tenant.slug, "a.ipynb", notebook_bytes("x = 1\nname = 'n'", "y = x"))
    graph = {"name": "history", "parameters": [{"name": "x", "type": "int", "default": 3},
                                               {"name": "name", "type": "str", "default": "n"}],
             "nodes": [{"id": "a", "notebook": "a.ipynb", "outputs": ["y"]}], "edges": []}
    return api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json").json()["id"]


def start(client, tenant, wid, parameters=None):
    response = client.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {"parameters": parameters or {}},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_run_says_what_started_it_who_and_what_differs_from_the_defaults(api, editor, tenant, wid):
    by_session = start(api, tenant, wid, {"x": 5, "name": "n"})  # name given, but as its default
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.create(user=editor, name='ci')[1]}")
    by_token = start(token, tenant, wid)
    assert (by_session["trigger"], by_session["created_by"]) == ("manual", "eddie")
    assert (by_token["trigger"], by_token["created_by"]) == ("api", "eddie")
    assert by_session["parameters_changed"] == {"x": 5} and by_token["parameters_changed"] == {}
    assert by_session["duration_s"] is None  # not ended

    listed = {r["id"]: r for r in api.get(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/").json()}
    assert listed[by_session["id"]]["parameters_changed"] == {"x": 5} and listed[by_token["id"]]["trigger"] == "api"
    assert listed[by_session["id"]]["version"] == 1


def test_the_tenants_runs_filter_by_workflow_status_trigger_and_time(api, tenant, wid, workflow, nb):
    first, second = start(api, tenant, wid), start(api, tenant, wid, {"x": 1})
    nb("b.ipynb", None, "z = 1")
    other = start(api, tenant, workflow(nodes=[{"id": "b", "notebook": "b.ipynb"}]))
    run = Run.objects.get(pk=first["id"])
    run.status, run.trigger, run.started_at, run.ended_at = Status.FAILED, "schedule", run.created_at, run.created_at
    run.save()
    url = f"/api/tenants/{tenant.slug}/runs/"

    def ids(query=""):
        response = api.get(url + query)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids() == [other["id"], second["id"], first["id"]]
    assert ids(f"?workflow={wid}") == [second["id"], first["id"]]
    assert ids("?status=failed") == [first["id"]] and ids("?trigger=schedule") == [first["id"]]
    assert ids("?trigger=manual&status=running") == [other["id"], second["id"]]
    cut = Run.objects.get(pk=second["id"]).created_at.isoformat()
    assert ids(f"?since={cut.replace('+', '%2B')}") == [other["id"], second["id"]]
    assert ids(f"?until={cut.replace('+', '%2B')}") == [first["id"]]
    row = api.get(url + "?status=failed").json()["results"][0]
    assert row["workflow_name"] == "history" and row["duration_s"] == 0.0 and row["created_by"] == "eddie"
    assert api.get(url + "?limit=1").json()["count"] == 3

    bad = api.get(url + "?status=done&trigger=cron&since=yesterday&workflow=x")
    assert bad.status_code == 400
    assert set(bad.json()) == {"status", "trigger", "since", "workflow"}, bad.json()


def test_another_tenants_runs_are_not_listed_or_compared(api, tenant, wid, other_tenant, make_user, client_for):
    from tenancy.models import Role

    mine = start(api, tenant, wid)
    theirs = client_for(make_user("olga", other_tenant, Role.EDITOR))
    assert theirs.get(f"/api/tenants/{other_tenant.slug}/runs/").json()["results"] == []
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{mine['id']}/compare/?with=999999").status_code == 404
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{mine['id']}/compare/").status_code == 400


def test_the_log_is_read_from_an_offset(api, tenant, wid):
    run = start(api, tenant, wid)
    row = Run.objects.get(pk=run["id"]).node_runs.get(node="a")
    row.log = "line one\n"
    row.save()
    url = f"/api/tenants/{tenant.slug}/runs/{run['id']}/nodes/a/log/"
    first = api.get(url).json()
    assert first == {"text": "line one\n", "offset": 9, "status": "queued", "reset": False}
    row.log += "line two\n"
    row.save()
    assert api.get(url + "?offset=9").json()["text"] == "line two\n"
    assert api.get(url + "?offset=99").json()["reset"] is True
    assert api.get(url + "?offset=-1").status_code == 400
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{run['id']}/nodes/nope/log/").status_code == 404
