"""The API tokens page (issue 12): create a token (its secret shown once, copied), see it listed
with its last use, a duplicate name refused at the field, revoke it."""
import json
import urllib.error
import urllib.request

import pytest

from accounts.models import ApiToken
from browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status_with(live_server, secret: str) -> int:
    request = urllib.request.Request(f"{live_server.url}/api/tenants/", headers={"Authorization": f"Token {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_create_copy_use_and_revoke_a_token(page, demo, live_server, console, shot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("heading", name="API tokens").wait_for()
    page.get_by_text("No tokens yet.").wait_for()

    page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog", name="New API token")
    dialog.get_by_label("Name").fill("nightly export")
    dialog.get_by_label("Expires in").select_option("90")
    dialog.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_test_id("token-secret").get_by_label("New token")
    secret = secret_box.input_value()
    assert secret.startswith("loom_")
    page.get_by_test_id("token-secret").get_by_role("button", name="Copy").click()
    page.get_by_text("Token copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "token-created")
    page.get_by_role("button", name="Done").click()

    table = page.get_by_role("table", name="API tokens")
    row = table.locator("tr", has_text="nightly export")
    assert "never" in row.inner_text()  # not used yet
    assert secret not in page.content()  # once closed, the secret is nowhere on the page
    assert status_with(live_server, secret) == 200
    page.reload()
    row.get_by_text("just now").wait_for()  # last used

    page.get_by_role("button", name="New token").click()
    dialog.get_by_label("Name").fill("nightly export")
    dialog.get_by_role("button", name="Create token").click()
    console.allow(r"status of 400")
    dialog.get_by_text("You already have a token named 'nightly export'.").wait_for()
    shot(page, "token-duplicate-name")
    dialog.get_by_role("button", name="Cancel").click()

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog", name="Revoke token").get_by_role("button", name="Revoke").click()
    page.get_by_text("Revoked “nightly export”: it no longer works.").wait_for()
    page.get_by_text("No tokens yet.").wait_for()
    assert status_with(live_server, secret) == 401
    assert not ApiToken.objects.exists()
    shot(page, "tokens-page")
