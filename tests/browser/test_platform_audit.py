"""The platform-wide audit log in a real Chromium: reached from the platform admin's navigation,
with the tenant audit page's filters plus a tenant filter, each entry linking into its tenant;
a tenant admin (no platform admin) does not get it."""
import re

import pytest

from browser.conftest import login
from tenancy.models import Membership, Tenant
from tenancy.services import connection_save, tenant_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_platform_audit_log_filters_by_tenant_and_links_into_it(page, demo, console, shot):
    connection_save(tenant=demo, data={"name": "crm", "kind": "http", "host": "https://crm.example"})
    tenant_open(slug="globex", name="Globex", admin_username="hank", admin_password="a-long-pass-phrase-7")
    connection_save(tenant=Tenant.objects.get(slug="globex"),
                    data={"name": "ledger", "kind": "postgres", "host": "db.globex.test"})
    login(page, "admin")  # a platform admin
    page.locator(".topbar").get_by_role("link", name="Platform").click()
    page.get_by_role("navigation", name="Platform").get_by_role("link", name="Audit log").click()
    assert page.url.endswith("/platform/audit")
    table = page.get_by_role("table", name="Audit log")
    table.get_by_text("connection ledger").wait_for()  # both tenants' entries, each naming its tenant
    assert table.get_by_role("columnheader", name="Tenant").count() == 1
    shot(page, "platform-audit-log")

    filters = page.get_by_role("form", name="Filter the audit log")
    filters.get_by_label(re.compile("^Tenant")).select_option("globex")
    filters.get_by_label("Action").select_option("connection")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_function("() => document.querySelectorAll('table[aria-label=\"Audit log\"] tbody tr').length === 1")
    row = table.locator("tbody tr")
    assert "connection.created" in row.inner_text() and "globex" in row.inner_text() and "crm" not in row.inner_text()
    shot(page, "platform-audit-log-filtered")
    row.get_by_role("link", name="connection ledger").click()  # into its own tenant's page
    page.get_by_role("heading", name="Connections").wait_for()
    assert page.url.endswith("/t/globex/admin/connections")
    page.get_by_test_id("connection-ledger").wait_for()

    page.go_back()
    filters = page.get_by_role("form", name="Filter the audit log")
    filters.get_by_label("Person").fill("nobody-at-all")
    filters.get_by_label("Person").press("Enter")  # the keyboard submits, as on the tenant's page
    page.get_by_text("No entry matches these filters.").wait_for()
    filters.get_by_role("button", name="Clear").click()
    table.get_by_text("connection crm").wait_for()
    table.get_by_role("link", name="demo", exact=True).first.click()  # the tenant column opens the tenant
    page.wait_for_url("**/t/demo")


def test_a_tenant_admin_gets_no_platform_audit(page, demo, console):
    Membership.objects.filter(tenant=demo, user__username="editor").update(role="admin")
    login(page, "editor")
    assert page.locator(".topbar").get_by_role("link", name="Platform").count() == 0
    page.goto("/platform/audit")
    page.get_by_role("alert").get_by_text("Only platform admins manage tenants.").wait_for()
    assert page.get_by_role("table", name="Audit log").count() == 0
