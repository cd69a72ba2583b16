"""GET /api/tenants/{tenant}/audit/ for the tenant's admins; GET /api/audit/ for platform admins."""
from datetime import datetime, timedelta, timezone

import pytest

from audit.models import AuditEntry
from tenancy.models import Role

AUDIT = "/api/tenants/acme/audit/"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _entry(tenant, action, *, actor="alice", minutes=0, object_type="workflow", object_id="1"):
    return AuditEntry.objects.create(tenant=tenant, tenant_slug=tenant.slug if tenant else "", actor_kind="user",
                                     actor=actor, action=action, object_type=object_type, object_id=object_id,
                                     object_label="w", at=T0 + timedelta(minutes=minutes))


def test_only_the_tenants_admins_read_its_log(admin_api, api, client_for, viewer, make_user, other_tenant, tenant):
    assert api.get(AUDIT).status_code == 403
    assert client_for(viewer).get(AUDIT).status_code == 403
    outsider = client_for(make_user("olga", other_tenant, Role.ADMIN))
    assert outsider.get(AUDIT).status_code == 404  # as for everything of a tenant one is not in
    assert admin_api.get(AUDIT).status_code == 200
    for client in (admin_api, api, outsider):
        assert client.get("/api/audit/").status_code == 403
    assert admin_api.post(AUDIT, {}, format="json").status_code == 405  # read-only


def test_tenants_see_their_own_entries_and_platform_admins_all(admin_api, root, make_user, client_for, other_tenant,
                                                                tenant):
    _entry(tenant, "workflow.saved")
    _entry(other_tenant, "workflow.saved", actor="olga")
    _entry(None, "login.failed", actor="anonymous")
    mine = admin_api.get(AUDIT).json()["results"]
    assert {e["tenant"] for e in mine} == {"acme"} and "olga" not in str(mine)
    theirs = client_for(make_user("olga", other_tenant, Role.ADMIN)).get("/api/tenants/globex/audit/").json()["results"]
    assert {e["tenant"] for e in theirs} == {"globex"} and "alice" not in {e["actor"] for e in theirs}
    everything = root.get("/api/audit/?limit=500").json()["results"]
    assert {e["tenant"] for e in everything} == {"acme", "globex", ""}
    assert {e["tenant"] for e in root.get("/api/audit/?tenant=globex").json()["results"]} == {"globex"}
    # A platform admin reads a tenant's log like its admins.
    assert root.get(AUDIT).json()["results"] == admin_api.get(AUDIT).json()["results"]


def test_entries_show_who_did_what_to_what_newest_first(admin_api, tenant):
    admin_api.post("/api/tenants/acme/connections/", {"name": "db", "host": "h"}, format="json")
    admin_api.patch("/api/tenants/acme/", {"name": "Acme Corp"}, format="json")
    results = admin_api.get(AUDIT).json()["results"]
    assert [e["action"] for e in results[:2]] == ["tenant.changed", "connection.created"]
    entry = results[0]
    assert set(entry) == {"id", "at", "tenant", "actor", "actor_kind", "address", "action", "object_type", "object_id",
                          "object_label", "before", "after"}
    assert (entry["actor"], entry["actor_kind"], entry["address"], entry["object_type"], entry["object_label"]) == (
        "alice", "user", "127.0.0.1", "tenant", "acme")
    assert (entry["before"], entry["after"]) == ({"name": "Acme"}, {"name": "Acme Corp"})


def test_filters(admin_api, tenant):
    _entry(tenant, "workflow.saved", minutes=0, object_id="7")
    _entry(tenant, "run.started", minutes=10, object_type="run", object_id="3")
    _entry(tenant, "run.cancelled", actor="eddie", minutes=20, object_type="run", object_id="3")
    _entry(tenant, "workflow.saved", actor="eddie", minutes=30, object_id="8")

    def ids(query):
        response = admin_api.get(f"{AUDIT}?{query}")
        assert response.status_code == 200, response.content
        return [(e["action"], e["object_id"]) for e in response.json()["results"]]

    assert ids("actor=eddie") == [("workflow.saved", "8"), ("run.cancelled", "3")]
    assert ids("action=workflow.saved") == [("workflow.saved", "8"), ("workflow.saved", "7")]
    assert ids("action=run") == [("run.cancelled", "3"), ("run.started", "3")]  # a category
    assert ids("object_type=run&object_id=3&actor=alice") == [("run.started", "3")]
    assert ids("object_type=workflow&object_id=7") == [("workflow.saved", "7")]
    assert ids("since=2026-01-01T12:10:00Z&until=2026-01-01T12:30:00Z") == [("run.cancelled", "3"), ("run.started", "3")]
    assert ids("since=2026-01-01T13:10:00%2B01:00&action=workflow") == [("workflow.saved", "8")]  # any offset
    bad = admin_api.get(f"{AUDIT}?since=yesterday&until=2026-13-01")
    assert bad.status_code == 400 and set(bad.json()) == {"since", "until"}


def test_pages_follow_a_cursor_and_do_not_shift_when_entries_arrive(admin_api, tenant):
    made = [_entry(tenant, "workflow.saved", object_id=str(i)).pk for i in range(5)]
    page = admin_api.get(f"{AUDIT}?action=workflow.saved&limit=2").json()
    assert [e["id"] for e in page["results"]] == made[:-3:-1] and page["previous"] is None
    _entry(tenant, "workflow.saved", object_id="new")  # arrives while someone pages
    seen = [e["id"] for e in page["results"]]
    while page["next"]:
        page = admin_api.get(page["next"]).json()
        seen += [e["id"] for e in page["results"]]
    assert seen == made[::-1]
    assert admin_api.get(f"{AUDIT}?cursor=garbage").status_code == 404
    assert len(admin_api.get(f"{AUDIT}?limit=100000").json()["results"]) <= 500


@pytest.mark.parametrize("path", [AUDIT, "/api/audit/"])
def test_anonymous_gets_nothing(db, tenant, path):
    from rest_framework.test import APIClient

    assert APIClient().get(path).status_code in (401, 403)


def test_the_admin_site_shows_entries_and_changes_none(root, tenant, make_user):
    from django.test import Client

    entry = _entry(tenant, "workflow.saved")
    client = Client()
    client.force_login(make_user("boss", is_superuser=True, is_staff=True))
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "workflow.saved"
