"""No audit entry ever holds a secret: connection secrets and the secret `extra` keys of each kind
(tenancy.kinds) show as "set", "replaced" or "cleared"."""
import json

from django.db import connection as db

from audit.models import AuditEntry
from tests.audit.conftest import entries, one
from tenancy.models import Connection

URL = "/api/tenants/acme/connections/"
SECRETS = ["pass-word-one-1", "pass-word-two-2", "tok-en-value-333", "aws-secret-key-4444", "session-tok-55555",
           "plain-tok-666666"]


def _everything_stored() -> str:
    """Every column of every audit row, as the database holds it."""
    with db.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEntry._meta.db_table}")
        return json.dumps(cursor.fetchall(), default=str)


def test_a_connections_life_records_which_secrets_changed_never_their_values(admin_api, root, tenant):
    one_, two, token, aws, session, plain = SECRETS
    created = admin_api.post(URL, {"name": "crm", "kind": "http", "host": "crm.example.com", "secret": one_,
                                   "extra": {"token": token, "timeout": 30}}, format="json")
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    entry = one("connection.created")
    assert (entry.actor, entry.tenant_slug, entry.object_type, entry.object_id, entry.object_label) == (
        "alice", "acme", "connection", str(cid), "crm")
    assert entry.after == {"name": "crm", "kind": "http", "description": "", "host": "crm.example.com", "port": None,
                           "login": "", "schema": "", "extra": {"timeout": 30}, "secret": "set", "extra.token": "set"}

    body = {"name": "crm", "kind": "http", "host": "crm2.example.com", "extra": {"timeout": 30}}
    assert admin_api.put(f"{URL}{cid}/", body | {"secret": two}, format="json").status_code == 200
    replaced = entries(action="connection.changed")[-1]
    assert replaced.before == {"host": "crm.example.com"}
    assert replaced.after == {"host": "crm2.example.com", "secret": "replaced"}

    assert admin_api.put(f"{URL}{cid}/", body | {"extra": {"token": "", "timeout": 30}}, format="json").status_code == 200
    assert entries(action="connection.changed")[-1].after == {"extra.token": "cleared"}
    assert admin_api.put(f"{URL}{cid}/", body, format="json").status_code == 200  # nothing changed: no entry
    assert len(entries(action="connection.changed")) == 2

    # S3's secret keys; and a change of kind that makes a plain key secret.
    s3 = admin_api.post(URL, {"name": "lake", "kind": "s3", "extra": {
        "aws_access_key_id": "AKIA-PUBLIC", "aws_secret_access_key": aws, "aws_session_token": session}}, format="json")
    assert s3.status_code == 201, s3.content
    assert entries(action="connection.created")[-1].after["extra"] == {"aws_access_key_id": "AKIA-PUBLIC"}
    generic = admin_api.post(URL, {"name": "misc", "kind": "postgres", "extra": {"token": plain}}, format="json")
    assert generic.status_code == 201  # `token` is no secret of postgres...
    gid = generic.json()["id"]
    kind_change = admin_api.put(f"{URL}{gid}/", {"name": "misc", "kind": "generic", "extra": {"token": plain}},
                                format="json")
    assert kind_change.status_code == 200  # ...but is one of generic: encrypted now, and shown as set
    changed = entries(action="connection.changed")[-1]
    # The plain value it had is masked too, now that it is a secret.
    assert changed.before == {"kind": "postgres", "extra": {"token": "********"}}
    assert changed.after == {"kind": "generic", "extra": {}, "extra.token": "set"}

    for cid_ in (cid, s3.json()["id"], gid):
        assert admin_api.delete(f"{URL}{cid_}/").status_code == 204
    deleted = entries(action="connection.deleted")
    assert [e.object_label for e in deleted] == ["crm", "lake", "misc"]
    assert deleted[0].before["secret"] == "set" and "extra.token" not in deleted[0].before
    assert deleted[1].before["extra.aws_secret_access_key"] == "set"

    stored = _everything_stored()
    listed = root.get("/api/audit/?limit=500").content.decode() + admin_api.get("/api/tenants/acme/audit/").content.decode()
    assert "connection.deleted" in listed
    for secret in SECRETS[:-1]:
        assert secret not in stored and secret not in listed, secret
    # A value that was no secret when written (postgres declares no `token`) is shown there, as the
    # API showed it, and nowhere after it became one.
    assert [(e.action, e.object_label) for e in AuditEntry.objects.all() if plain in json.dumps([e.before, e.after])] == [
        ("connection.created", "misc")]
    assert not Connection.objects.exists()


def test_the_last_guard_masks_a_secret_a_summary_would_carry(tenant):
    from audit.services import record

    entry = record("connection.changed", tenant=tenant, object_type="connection", label="crm pass-word-one-1",
                   after={"host": "user:pass-word-one-1@db", "nested": [{"pass-word-one-1": 1}]}, secrets=[SECRETS[0]])
    assert entry.object_label == "crm ********"
    assert entry.after == {"host": "user:********@db", "nested": [{"********": 1}]}
