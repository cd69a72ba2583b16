"""Adding people by invitation, who sees members' emails, and the last admin (README, "Roles")."""
import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tenancy.models import Invitation, Membership, Role

INVITE = "/api/tenants/acme/invitations/"
on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SELECT ... FOR UPDATE needs PostgreSQL (SQLite's IMMEDIATE transactions serialize writers)",
)


def _token(message) -> str:
    return re.search(r"/invitations/(\S+)", message.body).group(1)


class TestInvitations:
    def test_an_invitation_is_mailed_and_the_answer_does_not_say_who_exists(self, admin_api, make_user, other_tenant):
        make_user("olga", other_tenant, email="olga@globex.example")  # someone of another tenant
        answers = []
        for email in ("olga@globex.example", "nobody@nowhere.example"):
            response = admin_api.post(INVITE, {"email": email, "role": "editor"}, format="json")
            assert response.status_code == 201
            answers.append({k: v for k, v in response.json().items() if k not in ("id", "email", "created_at", "expires_at")})
        assert answers[0] == answers[1] == {"role": "editor", "invited_by": "alice", "status": "pending"}
        assert [m.to for m in mail.outbox] == [["olga@globex.example"], ["nobody@nowhere.example"]]
        assert "Acme" in mail.outbox[0].subject and _token(mail.outbox[0]) in mail.outbox[0].body
        stored = Invitation.objects.get(email="olga@globex.example")
        assert _token(mail.outbox[0]) not in str(stored.__dict__)  # only the token's hash is kept
        assert not Membership.objects.filter(user__username="olga", tenant__slug="acme").exists()

    def test_a_logged_in_user_accepts(self, admin_api, make_user, client_for, tenant):
        admin_api.post(INVITE, {"email": "bob@example.com", "role": "editor"}, format="json")
        token = _token(mail.outbox[0])
        preview = APIClient().post("/api/invitations/preview/", {"token": token}, format="json")
        assert preview.status_code == 200
        assert {k: preview.json()[k] for k in ("tenant", "role", "email")} == {"tenant": "acme", "role": "editor", "email": "bob@example.com"}
        bob = client_for(make_user("bob"))
        joined = bob.post("/api/invitations/accept/", {"token": token}, format="json")
        assert joined.status_code == 201 and (joined.json()["slug"], joined.json()["role"]) == ("acme", "editor")
        assert Membership.objects.get(user__username="bob", tenant=tenant).role == Role.EDITOR
        used = client_for(make_user("mallory")).post("/api/invitations/accept/", {"token": token}, format="json")
        assert used.status_code == 404 and "already used" in used.json()["detail"]
        assert admin_api.get(INVITE).json()[0]["status"] == "accepted"

    def test_a_new_person_signs_up_with_a_valid_password(self, admin_api, tenant):
        admin_api.post(INVITE, {"email": "new@example.com", "role": "viewer"}, format="json")
        token, anonymous = _token(mail.outbox[0]), APIClient()
        weak = anonymous.post("/api/invitations/signup/", {"token": token, "password": "password"}, format="json")
        assert weak.status_code == 400 and "too common" in str(weak.json()["password"])
        # The invitation names the account: a username sent along changes nothing, so tests nothing.
        ok = anonymous.post("/api/invitations/signup/", {"token": token, "username": "alice", "password": "tide-lantern-42"},
                            format="json")
        assert ok.status_code == 201 and ok.json() == {"tenant": "acme", "role": "viewer", "username": "new@example.com"}
        user = get_user_model().objects.get(username="new@example.com")
        assert user.email == "new@example.com" and user.check_password("tide-lantern-42")
        assert get_user_model().objects.get(username="alice").email != "new@example.com"
        assert APIClient().post("/api/auth/token/", {"username": "new@example.com", "password": "tide-lantern-42"},
                                format="json").status_code == 200
        again = anonymous.post("/api/invitations/signup/", {"token": token, "password": "tide-lantern-42"}, format="json")
        assert again.status_code == 404

    def test_signup_tells_only_whether_the_invited_address_has_an_account(self, admin_api, make_user, other_tenant):
        make_user("Known@Example.com", other_tenant)
        for email in ("known@example.com", "odd'name@example.com"):
            assert admin_api.post(INVITE, {"email": email, "role": "editor"}, format="json").status_code == 201
        known, odd = _token(mail.outbox[0]), _token(mail.outbox[1])
        taken = APIClient().post("/api/invitations/signup/", {"token": known, "password": "tide-lantern-42"}, format="json")
        assert taken.status_code == 409 and "log in with it to join" in taken.json()["detail"]
        refused = APIClient().post("/api/invitations/signup/", {"token": odd, "password": "tide-lantern-42"}, format="json")
        assert refused.status_code == 400 and "cannot be a username" in refused.json()["token"][0]
        assert not Membership.objects.filter(tenant__slug="acme", role="editor", user__username__icontains="@").exists()

    def test_expired_revoked_and_bad_tokens_open_nothing(self, admin_api, make_user, client_for):
        bob = client_for(make_user("bob"))
        for body in ({"email": "a@example.com", "role": "admin"}, {"email": "b@example.com", "role": "admin"}):
            admin_api.post(INVITE, body, format="json")
        expired, revoked = _token(mail.outbox[0]), _token(mail.outbox[1])
        Invitation.objects.filter(email="a@example.com").update(expires_at=timezone.now() - timedelta(seconds=1))
        assert admin_api.get(INVITE).json()[1]["status"] == "expired"
        assert admin_api.delete(f"{INVITE}{Invitation.objects.get(email='b@example.com').pk}/").status_code == 204
        for token in (expired, revoked, "guessed", ""):
            response = bob.post("/api/invitations/accept/", {"token": token}, format="json")
            assert response.status_code in (400, 404) and response.status_code != 201
        assert not Membership.objects.filter(user__username="bob").exists()

    def test_only_admins_invite_and_see_invitations(self, api, admin_api):
        admin_api.post(INVITE, {"email": "a@example.com", "role": "viewer"}, format="json")
        assert api.get(INVITE).status_code == 403
        assert api.post(INVITE, {"email": "b@example.com", "role": "viewer"}, format="json").status_code == 403
        bad = admin_api.post(INVITE, {"email": "not-an-email", "role": "boss"}, format="json")
        assert bad.status_code == 400 and set(bad.json()) == {"email", "role"}

    def test_a_member_accepting_again_is_told_so(self, admin_api, editor, client_for):
        admin_api.post(INVITE, {"email": "eddie@example.com", "role": "admin"}, format="json")
        response = client_for(editor).post("/api/invitations/accept/", {"token": _token(mail.outbox[0])}, format="json")
        assert response.status_code == 409 and "already a member" in response.json()["detail"]
        assert Membership.objects.get(user=editor).role == Role.EDITOR


def test_tenant_admins_cannot_add_users_directly_or_probe_usernames(admin_api, make_user, other_tenant):
    make_user("olga", other_tenant)
    answers = [admin_api.post("/api/tenants/acme/members/", {"username": name, "role": "viewer"}, format="json")
               for name in ("olga", "ghost")]
    assert [a.status_code for a in answers] == [403, 403] and answers[0].json() == answers[1].json()
    assert "invitation" in answers[0].json()["detail"]
    assert not Membership.objects.filter(user__username="olga", tenant__slug="acme").exists()


def test_only_admins_see_members_emails(api, admin_api, make_user, tenant):
    make_user("bob", tenant, email="bob@example.com")
    by_admin = {m["username"]: m["email"] for m in admin_api.get("/api/tenants/acme/members/").json()}
    by_editor = {m["username"]: m["email"] for m in api.get("/api/tenants/acme/members/").json()}
    assert by_admin["bob"] == "bob@example.com"
    assert set(by_editor.values()) == {None}
    member = Membership.objects.get(user__username="bob")
    assert api.get(f"/api/tenants/acme/members/{member.pk}/").json()["email"] is None


class TestLastAdmin:
    def test_the_last_admin_stays(self, admin_api, admin):
        me = Membership.objects.get(user=admin)
        response = admin_api.patch(f"/api/tenants/acme/members/{me.pk}/", {"role": "editor"}, format="json")
        assert response.status_code == 409 and "at least one admin" in response.json()["detail"]
        assert admin_api.delete(f"/api/tenants/acme/members/{me.pk}/").status_code == 409
        assert Membership.objects.get(pk=me.pk).role == Role.ADMIN

    def test_one_of_two_admins_steps_down(self, admin_api, admin, make_user, tenant):
        second = Membership.objects.get(user=make_user("bea", tenant, Role.ADMIN))
        assert admin_api.patch(f"/api/tenants/acme/members/{second.pk}/", {"role": "viewer"}, format="json").status_code == 200
        me = Membership.objects.get(user=admin)
        assert admin_api.delete(f"/api/tenants/acme/members/{me.pk}/").status_code == 409


@on_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_demoted_at_once_leave_one(action, tenant, make_user, client_for):
    """The last two admins each step down (or leave) at the same moment, each on its own
    connection: one succeeds, the other gets 409 with the reason, and the tenant keeps an admin."""
    admins = [make_user(name, tenant, Role.ADMIN) for name in ("alice", "bea")]
    rows = [Membership.objects.get(user=u) for u in admins]
    barrier, answers = threading.Barrier(2), [None, None]

    def act(i: int) -> None:
        try:
            client, target = client_for(admins[i]), rows[i].pk
            barrier.wait()
            url = f"/api/tenants/acme/members/{target}/"
            answers[i] = (client.patch(url, {"role": "editor"}, format="json") if action == "demote"
                          else client.delete(url))
        finally:
            connection.close()

    for _ in range(5):  # the race is tight: try it a few times
        Membership.objects.filter(tenant=tenant).delete()
        rows = [Membership.objects.create(tenant=tenant, user=u, role=Role.ADMIN) for u in admins]
        threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a.status_code for a in answers)
        assert codes == [200 if action == "demote" else 204, 409], [a.content for a in answers]
        refused = next(a for a in answers if a.status_code == 409)
        assert "at least one admin" in refused.json()["detail"]
        assert Membership.objects.filter(tenant=tenant, role=Role.ADMIN).count() == 1


def test_an_invitation_whose_mail_cannot_be_sent_is_not_kept(admin_api, settings):
    import socket

    with socket.socket() as s:  # a port nothing listens on: the SMTP server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    response = admin_api.post(INVITE, {"email": "a@example.com", "role": "viewer"}, format="json")
    assert response.status_code == 503 and "could not be sent" in response.json()["detail"]
    assert not Invitation.objects.exists()
