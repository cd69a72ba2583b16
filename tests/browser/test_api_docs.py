"""The operator's pages outside the editor work under Loom's Content-Security-Policy, offline:
Swagger UI from Loom's own files, Django's admin with its styles and scripts."""
import pytest

from browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_every_operation_from_loom_alone(page, demo, shot, live_server):
    remote = []
    page.on("request", lambda r: r.url.startswith(live_server.url) or remote.append(r.url))
    login(page)
    page.goto("/api/docs/")
    page.get_by_text("Loom API").first.wait_for()
    page.locator(".opblock-summary-path", has_text="/api/tenants/{tenant}/workflows/").first.wait_for()
    shot(page, "api-docs")
    assert [u for u in remote if not u.startswith("data:")] == []


def test_the_admin_login_page_is_styled_and_runs_its_scripts(page, shot):
    page.goto("/admin/login/")
    page.get_by_role("button", name="Log in").wait_for()
    # Its stylesheet loaded: the header has the admin's colours, not the browser's defaults.
    assert page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    shot(page, "admin-login")
