"""The Members admin page and the invitation landing page (issue 12), in a real Chromium: a viewer
sees no Admin link and no admin page; an admin invites by email, changes a role, removes a member,
revokes an invitation and is told inline why the last admin cannot step down; the mailed link
makes an account (the password validators' message under the field) and lands in the tenant."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from browser.conftest import login
from tenancy.models import Invitation, Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAST_ADMIN = "A tenant needs at least one admin; make someone else admin first."


def test_a_viewer_sees_no_admin_area(page, demo, console):
    login(page, "viewer")
    page.goto("/t/demo")
    page.get_by_role("heading", name="Workflows").wait_for()
    assert page.get_by_role("link", name="Admin").count() == 0
    page.goto("/t/demo/admin/members")
    page.get_by_text("Only the admins of Demo team manage it.").wait_for()
    assert page.get_by_role("table", name="Members").count() == 0


def test_members_invite_roles_last_admin_and_signup(page, demo, browser, live_server, console, shot):
    get_user_model().objects.filter(username="editor").update(email="editor@demo.example")
    console.allow(r"status of 409")
    login(page, "admin")
    page.goto("/t/demo")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url("**/t/demo/admin")
    members = page.get_by_role("table", name="Members")
    members.get_by_text("editor@demo.example").wait_for()  # emails as the API gives them to admins
    assert page.get_by_test_id("member-viewer").get_by_label("Role of viewer").input_value() == "viewer"
    page.get_by_text("No pending invitations.").wait_for()

    form = page.get_by_role("form", name="Invite someone")
    form.get_by_label("Invite by email").fill("nora@example.com")
    form.get_by_label("Role").select_option("editor")
    form.get_by_role("button", name="Send invitation").click()
    form.get_by_text(re.compile(r"Invitation sent to nora@example.com as editor\.")).wait_for()
    page.get_by_test_id("invitation-nora@example.com").wait_for()
    form.get_by_label("Invite by email").fill("gone@example.com")
    form.get_by_role("button", name="Send invitation").click()
    page.get_by_test_id("invitation-gone@example.com").wait_for()
    assert [m.to for m in mail.outbox] == [["nora@example.com"], ["gone@example.com"]]
    token = re.search(r"/invitations/(\S+)", mail.outbox[0].body).group(1)
    shot(page, "admin-members-invited")

    page.get_by_test_id("invitation-gone@example.com").get_by_role("button", name="Revoke").click()
    page.get_by_text("Revoked the invitation of gone@example.com").wait_for()
    page.get_by_test_id("invitation-gone@example.com").wait_for(state="detached")
    assert not Invitation.objects.filter(email="gone@example.com").exists()

    # The last admin cannot demote or remove themselves: the API's 409 reason, in their row.
    me = page.get_by_test_id("member-admin")
    me.get_by_label("Role of admin").select_option("editor")
    me.get_by_text(LAST_ADMIN).wait_for()
    assert me.get_by_label("Role of admin").input_value() == "admin"
    shot(page, "admin-members-last-admin")
    me.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name="Remove member").get_by_role("button", name="Remove").click()
    me.get_by_text(LAST_ADMIN).wait_for()
    assert Membership.objects.filter(tenant=demo, user__username="admin", role="admin").exists()

    page.get_by_test_id("member-editor").get_by_label("Role of editor").select_option("viewer")
    page.get_by_text("editor is now viewer.").wait_for()
    assert Membership.objects.get(tenant=demo, user__username="editor").role == "viewer"
    page.get_by_test_id("member-viewer").get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name="Remove member").get_by_role("button", name="Remove").click()
    page.get_by_test_id("member-viewer").wait_for(state="detached")
    assert not Membership.objects.filter(tenant=demo, user__username="viewer").exists()

    # A platform admin (the demo's admin is one) adds an existing account directly.
    add = page.get_by_role("form", name="Add an existing user")
    add.get_by_label("Add an existing user").fill("nobody")
    add.get_by_role("button", name="Add user").click()
    add.get_by_text("No user 'nobody'.").wait_for()
    add.get_by_label("Add an existing user").fill("viewer")
    add.get_by_role("button", name="Add user").click()
    page.get_by_test_id("member-viewer").wait_for()
    assert Membership.objects.get(tenant=demo, user__username="viewer").role == "viewer"

    # The mailed link, opened by someone without an account.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    guest = context.new_page()
    guest.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    console.allow(r"status of 400")
    guest.goto(f"/invitations/{token}")
    guest.get_by_role("heading", name="Join Demo team").wait_for()
    guest.get_by_text("as editor").first.wait_for()
    assert guest.get_by_label("Username").input_value() == "nora@example.com"  # the invitation names the account
    guest.get_by_label("Password").fill("12345678")
    guest.get_by_role("button", name="Create account and join").click()
    guest.get_by_text("This password is entirely numeric.").wait_for()
    shot(guest, "invitation-signup-password-error")
    guest.get_by_label("Password").fill("weaving-looms-42")
    guest.get_by_role("button", name="Create account and join").click()
    guest.wait_for_url("**/t/demo")
    guest.get_by_role("heading", name="Workflows").wait_for()
    assert Membership.objects.get(tenant=demo, user__username="nora@example.com").role == "editor"
    guest.goto(f"/invitations/{token}")  # used up
    guest.get_by_text("This invitation does not exist, has expired or was already used.").wait_for()
    console.allow(r"status of 404")
    context.close()
