"""Connections as admins manage them: a connection in use cannot be deleted (409 naming the
workflows), each kind's form comes from tenancy.kinds, and Django admin sets the password
write-only (never shown, kept when left empty, cleared with the box)."""
from django.test import Client

from tenancy.kinds import KIND_FORMS, secret_fields
from tenancy.models import Connection, ConnectionKind

URL = "/api/tenants/acme/connections/"


def _node(connections):
    return {"id": "a", "notebook": "a.ipynb", "connections": connections}


def test_a_connection_used_by_a_workflow_is_not_deleted(admin_api, nb, workflow, api):
    cid = admin_api.post(URL, {"name": "warehouse", "kind": "postgres", "host": "db"}, format="json").json()["id"]
    spare = admin_api.post(URL, {"name": "spare", "kind": "http"}, format="json").json()["id"]
    nb("a.ipynb", "x = 1")
    wf = workflow([_node(["warehouse"])], name="Nightly load")
    audit = workflow([_node(["warehouse"])], name="Audit")

    listed = {c["name"]: c["used_by"] for c in admin_api.get(URL).json()}
    assert listed == {"spare": [], "warehouse": ["Audit", "Nightly load"]}
    refused = admin_api.delete(f"{URL}{cid}/")
    assert refused.status_code == 409
    assert refused.json()["workflows"] == ["Audit", "Nightly load"]
    assert "used by workflows: Audit, Nightly load" in refused.json()["detail"]
    assert Connection.objects.filter(pk=cid).exists()
    assert admin_api.delete(f"{URL}{spare}/").status_code == 204

    # Only the latest version counts: once no workflow's latest version names it, it goes.
    graph = api.get(f"/api/tenants/acme/workflows/{wf}/").json()
    saved = api.put(f"/api/tenants/acme/workflows/{wf}/", {**graph["graph"], "nodes": [_node([])],
                                                           "base_version": graph["version"]}, format="json")
    assert saved.status_code == 200, saved.content
    assert admin_api.get(f"{URL}{cid}/").json()["used_by"] == ["Audit"]
    assert api.delete(f"/api/tenants/acme/workflows/{audit}/").status_code == 204
    assert admin_api.delete(f"{URL}{cid}/").status_code == 204


def test_connection_kinds_describe_each_form_from_the_kinds_module(api):
    kinds = {k["kind"]: k for k in api.get("/api/connection-kinds/").json()}
    assert set(kinds) == set(ConnectionKind.values) == set(KIND_FORMS)
    for kind, form in kinds.items():
        assert [f["name"] for f in form["secret_fields"]] == list(secret_fields(kind))
    assert kinds["postgres"]["default_port"] == 5432
    assert [f["name"] for f in kinds["postgres"]["fields"]] == ["host", "port", "login", "schema"]
    assert [f["name"] for f in kinds["s3"]["extra_keys"]] == ["aws_access_key_id", "region_name"]
    assert kinds["generic"]["free_extra"] and not kinds["http"]["free_extra"]


def test_django_admin_sets_the_password_write_only(make_user, tenant):
    root = make_user("root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)
    form = {"tenant": tenant.pk, "name": "warehouse", "kind": "postgres", "description": "", "host": "db",
            "port": "5432", "login": "loader", "schema": "dw", "extra": "{}"}
    assert client.post("/admin/tenancy/connection/add/", form | {"secret": "short"}).status_code == 200  # refused
    assert not Connection.objects.exists()
    added = client.post("/admin/tenancy/connection/add/", form | {"secret": "s3cret-pass-word"})
    assert added.status_code == 302, added.content.decode()[:2000]
    conn = Connection.objects.get()
    assert conn.get_secret() == "s3cret-pass-word" and b"s3cret" not in bytes(conn.secret_encrypted)

    change = f"/admin/tenancy/connection/{conn.pk}/change/"
    page = client.get(change).content.decode()
    assert "s3cret-pass-word" not in page and 'name="secret"' in page
    assert client.post(change, form | {"host": "db2", "secret": ""}).status_code == 302  # empty keeps it
    conn.refresh_from_db()
    assert conn.host == "db2" and Connection.objects.get().get_secret() == "s3cret-pass-word"
    assert client.post(change, form | {"secret": "another-pass-word"}).status_code == 302
    assert Connection.objects.get().get_secret() == "another-pass-word"
    assert client.post(change, form | {"clear_secret": "on"}).status_code == 302
    assert not Connection.objects.get().has_secret


def test_django_admin_refuses_to_delete_a_connection_in_use(make_user, tenant, admin_api, nb, workflow):
    cid = admin_api.post(URL, {"name": "warehouse", "kind": "postgres"}, format="json").json()["id"]
    nb("a.ipynb", "x = 1")
    workflow([_node(["warehouse"])], name="Nightly load")
    client = Client()
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    refused = client.post(f"/admin/tenancy/connection/{cid}/delete/", {"post": "yes"}, follow=True)
    assert "used by workflows: Nightly load" in refused.content.decode()
    assert Connection.objects.filter(pk=cid).exists()
    assert "delete_selected" not in client.get("/admin/tenancy/connection/").content.decode()
    spare = admin_api.post(URL, {"name": "spare", "kind": "http"}, format="json").json()["id"]
    assert client.post(f"/admin/tenancy/connection/{spare}/delete/", {"post": "yes"}).status_code == 302
    assert not Connection.objects.filter(pk=spare).exists()
