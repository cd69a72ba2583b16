"""Each kind of change is recorded once, by whom, in which tenant, on what, with a summary; a change
that fails records nothing."""
from django.core.management import call_command

from audit.models import AuditEntry
from helpers import notebook_bytes, upload
from tests.audit.conftest import entries, one

WF = "/api/tenants/acme/workflows/"
GRAPH = {"name": "churn", "nodes": [{"id": "a", "notebook": "a.ipynb"}], "edges": [],
         "parameters": [{"name": "x", "type": "int", "default": 3}]}


def _workflow(api) -> int:
    assert upload(api, "acme", "a.ipynb", notebook_bytes("x = 1", "y = x")).status_code == 201
    response = api.post(WF, GRAPH, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_workflow_created_saved_and_deleted(api, tenant, editor):
    wid = _workflow(api)
    created = one("workflow.created")
    assert (created.tenant_id, created.tenant_slug, created.actor, created.actor_user_id, created.actor_kind) == (
        tenant.pk, "acme", "eddie", editor.pk, "user")
    assert (created.object_type, created.object_id, created.object_label) == ("workflow", str(wid), "churn")
    assert created.after == {"version": 1, "name": "churn", "nodes": 1} and created.address == "127.0.0.1"

    saved = api.put(f"{WF}{wid}/", GRAPH | {"name": "churn v2", "base_version": 1}, format="json")
    assert saved.status_code == 200
    entry = one("workflow.saved")
    assert entry.before == {"version": 1} and entry.after == {"version": 2, "name": "churn v2", "nodes": 1}
    assert entry.object_label == "churn v2"

    assert api.delete(f"{WF}{wid}/").status_code == 204
    deleted = one("workflow.deleted")
    assert (deleted.object_id, deleted.before) == (str(wid), {"version": 2, "name": "churn v2"})
    assert [e.action for e in entries()] == ["notebook.uploaded", "workflow.created", "workflow.saved", "workflow.deleted"]


def test_a_failed_change_records_nothing(api, admin_api, client_for, viewer, tenant):
    wid = _workflow(api)
    before = AuditEntry.objects.count()
    # Invalid bodies (400), a stale save (409), a bad run (400), a short secret (400), the last admin (4xx).
    assert api.put(f"{WF}{wid}/", {"name": "x", "base_version": 1, "nodes": "no"}, format="json").status_code == 400
    assert api.post(WF, {"name": "", "nodes": [], "edges": []}, format="json").status_code == 400
    assert api.put(f"{WF}{wid}/", GRAPH | {"base_version": 7}, format="json").status_code == 409
    assert api.post(f"{WF}{wid}/runs/", {"parameters": {"x": "three"}}, format="json").status_code == 400
    assert api.post(f"{WF}{wid}/deployment/", {"engine": "airflow"}, format="json").status_code in (400, 503)
    assert admin_api.post("/api/tenants/acme/connections/", {"name": "db", "secret": "short"},
                          format="json").status_code == 400
    me = admin_api.get("/api/tenants/acme/members/").json()
    alice = next(m for m in me if m["username"] == "alice")
    assert admin_api.patch(f"/api/tenants/acme/members/{alice['id']}/", {"role": "viewer"},
                           format="json").status_code in (400, 409)
    assert client_for(viewer).delete(f"{WF}{wid}/").status_code == 403
    assert AuditEntry.objects.count() == before


def test_notebook_uploaded_and_deleted(api, tenant):
    first = notebook_bytes("x = 1")
    upload(api, "acme", "a.ipynb", first)
    upload(api, "acme", "a.ipynb", first)  # the same content: no new version, no entry
    upload(api, "acme", "a.ipynb", notebook_bytes("x = 2"))
    assert [e.after["version"] for e in entries(action="notebook.uploaded")] == [1, 2]
    nid = api.get("/api/tenants/acme/notebooks/").json()[0]["id"]
    assert api.delete(f"/api/tenants/acme/notebooks/{nid}/").status_code == 204
    deleted = one("notebook.deleted")
    assert (deleted.object_type, deleted.object_id, deleted.object_label, deleted.before) == (
        "notebook", str(nid), "a.ipynb", {"versions": 2})


def test_run_started_cancelled_and_repaired(api, tenant):
    wid = _workflow(api)
    run = api.post(f"{WF}{wid}/runs/", {"parameters": {"x": 5}}, format="json").json()
    started = one("run.started")
    assert (started.object_type, started.object_id, started.actor) == ("run", str(run["id"]), "eddie")
    assert started.object_label == f"run {run['id']} of churn"
    assert started.after == {"workflow": wid, "version": 1, "engine": "local", "parameters": {"x": 5}}

    assert api.post(f"/api/tenants/acme/runs/{run['id']}/cancel/").status_code == 200
    assert api.post(f"/api/tenants/acme/runs/{run['id']}/cancel/").status_code == 200  # already cancelled: no change
    cancelled = one("run.cancelled")
    assert cancelled.before == {"status": "running"} and cancelled.after == {"status": "cancelled"}

    assert api.post(f"/api/tenants/acme/runs/{run['id']}/repair/").status_code == 200
    repaired = one("run.repaired")
    assert repaired.before == {"status": "cancelled", "version": 1}
    assert repaired.after == {"status": "running", "rerun": ["a"], "version": 1}
    assert api.post(f"/api/tenants/acme/runs/{run['id']}/repair/").status_code == 409  # running: refused, unrecorded
    assert len(entries(action="run.repaired")) == 1
    api.post(f"/api/tenants/acme/runs/{run['id']}/cancel/")


def test_members_added_changed_and_removed(root, admin_api, make_user, tenant, admin):
    added = root.post("/api/tenants/acme/members/", {"username": "carol", "role": "editor",
                                                     "password": "a-long-pass-phrase"}, format="json")
    assert added.status_code == 201, added.content
    entry = one("member.added")
    assert (entry.actor, entry.tenant_slug, entry.object_type, entry.object_label) == ("root", "acme", "member", "carol")
    assert entry.after == {"role": "editor", "user": "carol"}
    mid = added.json()["id"]
    assert admin_api.patch(f"/api/tenants/acme/members/{mid}/", {"role": "admin"}, format="json").status_code == 200
    changed = one("member.changed")
    assert (changed.actor, changed.before, changed.after) == ("alice", {"role": "editor"}, {"role": "admin"})
    assert admin_api.delete(f"/api/tenants/acme/members/{mid}/").status_code == 204
    removed = one("member.removed")
    assert (removed.object_id, removed.before) == (str(mid), {"role": "admin", "user": "carol"})
    assert "a-long-pass-phrase" not in str(list(AuditEntry.objects.values()))


def test_tenant_created_and_its_settings_changed(root, admin_api, tenant):
    assert root.post("/api/tenants/", {"slug": "initech", "name": "Initech"}, format="json").status_code == 201
    created = one("tenant.created")
    assert (created.actor, created.tenant_slug, created.object_type, created.object_label) == (
        "root", "initech", "tenant", "initech")
    assert created.after["name"] == "Initech" and created.after["concurrency_quota"] == 8

    assert admin_api.patch("/api/tenants/acme/", {"name": "Acme Corp"}, format="json").status_code == 200
    assert root.patch("/api/tenants/acme/", {"concurrency_quota": 3}, format="json").status_code == 200
    assert admin_api.patch("/api/tenants/acme/", {"name": "Acme Corp"}, format="json").status_code == 200  # no change
    renamed, quota = entries(action="tenant.changed")
    assert (renamed.actor, renamed.tenant_id, renamed.before, renamed.after) == (
        "alice", tenant.pk, {"name": "Acme"}, {"name": "Acme Corp"})
    assert (quota.actor, quota.before, quota.after) == ("root", {"concurrency_quota": 8}, {"concurrency_quota": 3})


def test_failed_logins_are_recorded_with_the_username_and_address(db, make_user, client_for):
    from rest_framework.test import APIClient

    make_user("tok")
    bad = APIClient().post("/api/auth/token/", {"username": "tok", "password": "wrong-guess-1"}, format="json",
                           REMOTE_ADDR="10.7.7.7")
    assert bad.status_code == 400
    APIClient().post("/api/auth/session/", {"username": "nobody", "password": "wrong-guess-2"}, format="json",
                     REMOTE_ADDR="10.7.7.8")
    assert APIClient().post("/api/auth/token/", {"username": "tok", "password": "secret-pass"},
                            format="json").status_code == 200  # a success is no entry
    found = list(AuditEntry.objects.filter(action="login.failed").order_by("id"))
    assert [(e.actor_kind, e.tenant_id, e.address, e.object_type, e.object_label, e.after) for e in found] == [
        ("anonymous", None, "10.7.7.7", "user", "tok", {"username": "tok", "known_user": True, "locked_out": False}),
        ("anonymous", None, "10.7.7.8", "user", "nobody", {"username": "nobody", "known_user": False, "locked_out": False}),
    ]
    # The failure that locks the account, and a try while locked (the right password, refused), say so.
    codes = [APIClient().post("/api/auth/token/", {"username": "tok", "password": password}, format="json",
                              REMOTE_ADDR=f"10.8.8.{i}").status_code
             for i, password in enumerate(["wrong-guess-3"] * 5 + ["secret-pass"])]
    assert codes[-2:] == [429, 429] and codes[0] == 400
    tries = list(AuditEntry.objects.filter(action="login.failed", object_label="tok").order_by("id"))[1:]
    assert [e.after["locked_out"] for e in tries] == [code == 429 for code in codes]
    assert not {"wrong-guess", "secret-pass"} & {w for e in AuditEntry.objects.values() for w in str(e).split("'")}


def test_changes_outside_requests_are_the_systems(tenant, tmp_path):
    (tmp_path / "n.ipynb").write_bytes(notebook_bytes("x = 1"))
    call_command("sync_notebooks", "acme", "--dir", str(tmp_path))
    entry = AuditEntry.objects.get(action="notebook.uploaded")
    assert (entry.actor_kind, entry.actor, entry.actor_user_id, entry.address) == ("system", "system", None, None)


def test_local_deploy_pause_resume_and_undeploy(api, client_for, viewer, tenant, editor):
    wid = _workflow(api)
    url = f"{WF}{wid}/deployment/"
    assert api.post(url, {"engine": "local"}, format="json").status_code == 202
    deployed = one("deployment.deployed")
    assert (deployed.tenant_slug, deployed.actor, deployed.actor_user_id, deployed.object_type, deployed.object_id,
            deployed.object_label) == ("acme", "eddie", editor.pk, "workflow", str(wid), "churn")
    assert deployed.after == {"version": 1, "engine": "local"}

    assert api.patch(url, {"paused": True}, format="json").status_code == 200
    assert api.patch(url, {"paused": True}, format="json").status_code == 200  # already paused: no change, no entry
    assert one("deployment.paused").after == {"version": 1, "engine": "local"}
    assert api.patch(url, {"paused": False}, format="json").status_code == 200
    assert (one("deployment.resumed").object_id, one("deployment.resumed").actor) == (str(wid), "eddie")

    assert client_for(viewer).delete(url).status_code == 403  # refused: nothing recorded
    assert api.delete(url).status_code == 204
    undeployed = one("deployment.undeployed")
    assert (undeployed.actor, undeployed.object_id, undeployed.before, undeployed.after) == (
        "eddie", str(wid), {"version": 1, "engine": "local"}, None)
    assert [e.action for e in entries() if e.action.startswith("deployment.")] == [
        "deployment.deployed", "deployment.paused", "deployment.resumed", "deployment.undeployed"]


def test_backfill_started(api, tenant, editor):
    assert upload(api, "acme", "a.ipynb", notebook_bytes("x = 1", "y = x")).status_code == 201
    wid = api.post(WF, GRAPH | {"schedule": "0 2 * * *"}, format="json").json()["id"]
    url = f"{WF}{wid}/backfills/"
    body = {"start": "2026-02-01T00:00:00Z", "end": "2026-02-03T23:00:00Z", "engine": "local"}
    assert api.post(url, {**body, "dry_run": True}, format="json").status_code == 200  # a plan changes nothing
    assert not entries(action="backfill.started")
    created = api.post(url, body, format="json")
    assert created.status_code == 201, created.content
    started = one("backfill.started")
    assert (started.tenant_slug, started.actor, started.actor_user_id, started.object_type, started.object_id,
            started.object_label) == ("acme", "eddie", editor.pk, "backfill", str(created.json()["id"]),
                                      f"backfill {created.json()['id']} of churn")
    assert started.after == {"workflow": wid, "version": 1, "engine": "local", "start": "2026-02-01T00:00:00+00:00",
                             "end": "2026-02-03T23:00:00+00:00", "reprocess": "none", "dates": 3}
    assert api.post(url, body, format="json").status_code == 409  # one at a time: refused, unrecorded
    assert len(entries(action="backfill.started")) == 1
