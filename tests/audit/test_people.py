"""Invitations and API tokens: recorded without the link's token or the API token's secret."""
import json
import re

from django.core import mail
from rest_framework.test import APIClient

from accounts.models import ApiToken
from audit.models import AuditEntry
from tests.audit.conftest import entries, one

INVITE = "/api/tenants/acme/invitations/"


def _link_token(message) -> str:
    return re.search(r"/invitations/(\S+)", message.body).group(1)


def test_an_invitation_created_accepted_by_signing_up_and_revoked(admin_api, tenant):
    assert admin_api.post(INVITE, {"email": "new@example.com", "role": "viewer"}, format="json").status_code == 201
    created = one("invitation.created")
    assert (created.actor, created.tenant_slug, created.object_type, created.object_label) == (
        "alice", "acme", "invitation", "new@example.com")
    assert {k: created.after[k] for k in ("email", "role", "invited_by", "accepted_by")} == {
        "email": "new@example.com", "role": "viewer", "invited_by": "alice", "accepted_by": None}
    link = _link_token(mail.outbox[0])
    joined = APIClient().post("/api/invitations/signup/", {"token": link, "password": "tide-lantern-42"}, format="json")
    assert joined.status_code == 201, joined.content
    added = one("member.added")
    assert (added.actor, added.actor_kind, added.object_label, added.after) == (  # the person signing up
        "new@example.com", "user", "new@example.com", {"role": "viewer", "user": "new@example.com"})
    accepted = one("invitation.accepted")
    assert accepted.actor == "new@example.com" and accepted.after["accepted_by"] == "new@example.com"

    assert admin_api.post(INVITE, {"email": "other@example.com", "role": "editor"}, format="json").status_code == 201
    pending = admin_api.get(INVITE).json()[0]
    assert admin_api.delete(f"{INVITE}{pending['id']}/").status_code == 204
    revoked = one("invitation.revoked")
    assert (revoked.actor, revoked.object_label, revoked.before["role"]) == ("alice", "other@example.com", "editor")
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert link not in stored and "tide-lantern-42" not in stored and "token_sha256" not in stored


def test_api_tokens_created_and_revoked_never_with_their_secret(editor, tenant, make_user, client_for):
    browser = APIClient()
    browser.force_login(editor)
    created = browser.post("/api/auth/tokens/", {"name": "ci", "expires_in_days": 7}, format="json")
    assert created.status_code == 201
    secret = created.json()["token"]
    entry = one("token.created")
    assert (entry.actor, entry.tenant_id, entry.object_type, entry.object_id, entry.object_label) == (
        "eddie", None, "token", str(created.json()["id"]), "eddie/ci")
    assert set(entry.after) == {"name", "user", "expiry"}
    by_login = APIClient().post("/api/auth/token/", {"username": "eddie", "password": "secret-pass"}, format="json")
    assert by_login.status_code == 200
    login_entry = entries(action="token.created")[-1]
    assert (login_entry.actor, login_entry.actor_kind) == ("eddie", "user")  # who logged in, not "anonymous"
    script = APIClient()  # a script using the token acts as its user
    script.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert script.post("/api/tenants/acme/workflows/", {"name": "w", "nodes": [], "edges": []},
                       format="json").status_code == 201
    assert (one("workflow.created").actor, one("workflow.created").actor_user_id) == ("eddie", editor.pk)
    stored = ApiToken.objects.get(pk=created.json()["id"])
    digest, key = stored.digest, stored.token_key

    assert browser.delete(f"/api/auth/tokens/{created.json()['id']}/").status_code == 204
    revoked = one("token.revoked")
    assert (revoked.actor, revoked.object_label, revoked.before["name"]) == ("eddie", "eddie/ci", "ci")
    editor.set_password("a-new-long-passphrase")  # revokes the rest, as the system (no request here)
    editor.save()
    by_password = AuditEntry.objects.filter(action="token.revoked", actor="system")
    assert [e.object_id for e in by_password] == [str(by_login.json()["id"])]
    stored_text = json.dumps(list(AuditEntry.objects.values()), default=str)
    for leak in (secret, secret[5:], digest, key, by_login.json()["token"]):
        assert leak not in stored_text
