"""Issue 12's remaining admin pages in a real Chromium, each as the role that uses it: Test
connection (a real worker, the notebook sandbox), the audit log with its filters and links, the
platform admin's tenants and usage, and the navigation each role sees (nothing it cannot use)."""
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from browser.conftest import login
from tenancy.models import Connection, Membership, Role, Tenant
from tenancy.services import connection_save
from tests.runs.support import worker_start
from workflows.models import Workflow
from workflows.services import workflow_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "warehouse-pass-2026"


def test_a_failing_connection_test_shows_its_error(page, demo, shot, tmp_path):
    """Loom's own PostgreSQL listens on the host's 127.0.0.1, which a notebook sandbox cannot reach:
    the test fails with the driver's error, the password nowhere on the page."""
    connection_save(tenant=demo, data={"name": "warehouse", "kind": "postgres", "host": "127.0.0.1", "port": 5432,
                                       "login": "postgres", "secret": PASSWORD})
    root = Path(tempfile.mkdtemp(prefix="loom-browser-conntest-"))
    root.chmod(0o711)  # the sandbox runs as nobody when the worker is root
    try:
        with worker_start(tmp_path / "w", LOOM_KERNEL_POOL="0", LOOM_SANDBOX="on", LOOM_SANDBOX_DIR=str(root)):
            login(page, "admin")
            page.goto("/t/demo/admin/connections")
            row = page.get_by_test_id("connection-warehouse")
            row.get_by_role("button", name="Test warehouse").click()
            result = page.get_by_test_id("connection-warehouse-test")
            result.get_by_text("Test failed.").wait_for(timeout=60_000)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert 'connection to server at "127.0.0.1", port 5432 failed: Connection refused' in result.inner_text()
    assert PASSWORD not in page.content()
    shot(page, "admin-connection-test-failed")


def test_audit_log_filters_and_links(page, demo, console, shot):
    Membership.objects.filter(tenant=demo, user__username="editor").update(role="admin")  # a tenant admin
    connection_save(tenant=demo, data={"name": "crm", "kind": "http", "host": "https://crm.example"})
    churn = Workflow.objects.get(tenant=demo, name="Churn per account")
    workflow_update(workflow=churn, graph={**churn.versions.get(number=1).graph, "description": "v2"}, base_version=1)
    login(page, "editor")
    page.goto("/t/demo/admin")
    page.get_by_role("link", name="Audit log").click()
    table = page.get_by_role("table", name="Audit log")
    table.get_by_text("connection.created").wait_for()
    assert table.get_by_text("workflow.created").count() >= 1
    shot(page, "admin-audit-log")

    filters = page.get_by_role("form", name="Filter the audit log")
    filters.get_by_label("Action").select_option("connection")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_function("() => document.querySelectorAll('table[aria-label=\"Audit log\"] tbody tr').length === 1")
    assert table.locator("tbody tr").inner_text().count("connection.created") == 1
    table.get_by_role("link", name="connection crm").click()
    page.get_by_role("heading", name="Connections").wait_for()
    assert page.url.endswith("/t/demo/admin/connections")

    page.go_back()
    filters = page.get_by_role("form", name="Filter the audit log")
    filters.get_by_label("Person").fill("nobody-at-all")
    filters.get_by_label("Person").press("Enter")  # the keyboard submits
    page.get_by_text("No entry matches these filters.").wait_for()
    filters.get_by_role("button", name="Clear").click()
    table.get_by_text("workflow.created").first.wait_for()
    # An entry naming a version opens that version, read only (version 2 is the latest here).
    table.get_by_role("link", name="workflow Churn per account · version 1").click()
    page.get_by_test_id("viewing-banner").get_by_text("Version 1").wait_for()
    assert page.url.endswith(f"/t/demo/workflows/{churn.pk}?version=1")


def test_platform_admin_opens_renames_deactivates_and_sees_usage(page, demo, console, shot):
    console.allow(r"status of 400")
    login(page, "admin")
    page.locator(".topbar").get_by_role("link", name="Platform").click()
    table = page.get_by_role("table", name="Tenants")
    table.get_by_test_id("tenant-demo").wait_for()
    page.get_by_role("button", name="New tenant").click()
    form = page.get_by_role("form", name="New tenant")
    form.get_by_label("Slug").fill("initech")
    form.get_by_label("Name", exact=True).fill("Initech")
    form.get_by_label("Username").fill("bill")
    form.get_by_label("Password (new user only)").fill("password")  # too common: refused at the field
    form.get_by_role("button", name="Open tenant").click()
    form.get_by_text("This password is too common.").wait_for()
    shot(page, "platform-new-tenant-error")
    form.get_by_label("Password (new user only)").fill("a-long-pass-phrase-7")
    form.get_by_role("button", name="Open tenant").click()
    row = table.get_by_test_id("tenant-initech")
    row.get_by_text("bill").wait_for()
    assert Membership.objects.get(tenant__slug="initech").role == Role.ADMIN

    row.get_by_role("button", name="Rename initech").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Initech Corp")
    dialog.get_by_role("button", name="Rename").click()
    row.get_by_text("Initech Corp").wait_for()
    row.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    row.get_by_text("deactivated").wait_for()
    assert not Tenant.objects.get(slug="initech").is_active
    shot(page, "platform-tenants")

    page.get_by_role("link", name="Usage").click()
    usage = page.get_by_role("table", name="Usage per tenant")
    usage.get_by_test_id("usage-initech").get_by_text("deactivated").wait_for()
    assert usage.get_by_test_id("usage-demo").locator("td").nth(3).inner_text() == "0.00"
    shot(page, "platform-usage")


def test_each_role_sees_only_what_it_may_use(page, demo, browser, live_server, shot):
    """A viewer: no Admin, no Platform, and the pages say why. An admin of another tenant: nothing of demo."""
    login(page, "viewer")
    topbar = page.locator(".topbar")
    topbar.get_by_text("viewer").wait_for()
    assert topbar.get_by_role("link", name="Admin").count() == 0 and topbar.get_by_role("link", name="Platform").count() == 0
    page.goto("/t/demo/admin/audit")
    page.get_by_text("Only the admins of").wait_for()
    assert page.get_by_role("table").count() == 0 and page.get_by_role("link", name="Audit log").count() == 0
    page.goto("/platform")
    page.get_by_text("Only platform admins manage tenants.").wait_for()
    shot(page, "viewer-no-admin")

    other = Tenant.objects.create(slug="globex", name="Globex")
    olga = get_user_model().objects.create_user("olga", password="loom-demo")
    Membership.objects.create(tenant=other, user=olga, role=Role.ADMIN)
    Connection.objects.create(tenant=demo, name="secret_db", host="demo-only.example")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    errors = []
    theirs = context.new_page()
    theirs.on("pageerror", lambda e: errors.append(str(e)))
    login(theirs, "olga")
    theirs.locator(".topbar").get_by_role("link", name="Admin").wait_for()  # of globex
    assert theirs.locator(".topbar").get_by_role("link", name="Platform").count() == 0
    for path in ("/t/demo/admin/connections", "/t/demo/admin/audit", "/t/demo"):
        theirs.goto(path)
        theirs.get_by_text("No such tenant.").first.wait_for()
        assert "secret_db" not in theirs.content() and "demo-only.example" not in theirs.content()
    shot(theirs, "other-tenant-admin-sees-nothing-of-demo")
    context.close()
    assert errors == []
