"""The Connections admin page (issue 12), in a real Chromium: a form fitting each kind, secrets
write-only (set, refused when too short at the field, shown only as set / not set, cleared), and
a connection in use cannot be deleted: the API's 409 names the workflows, in the connection's row."""
import pytest

from browser.conftest import login
from tenancy.models import Connection
from workflows.demo import CHURN_GRAPH
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "warehouse-pass-2026"
TOKEN = "crm-bearer-token-0123456789"


def test_connections_create_edit_secrets_and_delete_refused_in_use(page, demo, console, shot):
    console.allow(r"status of 400")
    console.allow(r"status of 409")
    login(page, "admin")
    page.goto("/t/demo/admin")
    page.get_by_role("link", name="Connections").click()
    page.get_by_text("No connections yet.").wait_for()

    page.get_by_role("button", name="New connection").click()
    form = page.get_by_test_id("connection-form")
    form.get_by_label("Name").fill("warehouse")
    form.get_by_label("Kind").select_option(label="PostgreSQL")
    assert form.get_by_label("Port").get_attribute("placeholder") == "5432"
    form.get_by_label("Host").fill("db.internal")
    form.get_by_label("Port").fill("5432")
    form.get_by_label("User").fill("loader")
    form.get_by_label("Database").fill("dw")
    assert form.get_by_label("Bearer token").count() == 0  # not a PostgreSQL field
    form.get_by_role("group", name="Password").get_by_role("button", name="Set").click()
    form.get_by_label("New Password").fill("short")
    form.get_by_role("button", name="Create connection").click()
    form.get_by_text("secret is a secret: use at least 8 characters").wait_for()
    shot(page, "admin-connection-short-secret")
    form.get_by_label("New Password").fill(PASSWORD)
    form.get_by_role("button", name="Create connection").click()
    row = page.get_by_test_id("connection-warehouse")
    row.get_by_text("Password: set").wait_for()
    assert "db.internal:5432" in row.inner_text() and "PostgreSQL" in row.inner_text()
    conn = Connection.objects.get(name="warehouse")
    assert (conn.host, conn.port, conn.login, conn.schema, conn.get_secret()) == ("db.internal", 5432, "loader", "dw", PASSWORD)

    page.get_by_role("button", name="New connection").click()
    form.get_by_label("Name").fill("crm")
    form.get_by_label("Kind").select_option(label="HTTP API")
    form.get_by_label("Base URL or host").fill("https://crm.example.com")
    assert form.get_by_label("Database").count() == 0
    form.get_by_role("group", name="Bearer token").get_by_role("button", name="Set").click()
    form.get_by_label("New Bearer token").fill(TOKEN)
    form.get_by_role("button", name="Create connection").click()
    crm = page.get_by_test_id("connection-crm")
    crm.get_by_text("Bearer token: set").wait_for()
    crm.get_by_text("API key: not set").wait_for()
    assert Connection.objects.get(name="crm").get_secret_extra() == {"token": TOKEN}

    # Edit: the secret is never shown; clear it, then the row says so.
    row.get_by_role("button", name="Edit").click()
    password = form.get_by_role("group", name="Password")
    password.get_by_text("set", exact=True).wait_for()
    assert PASSWORD not in page.content() and TOKEN not in page.content()
    form.get_by_label("Host").fill("db2.internal")
    password.get_by_role("button", name="Clear").click()
    form.get_by_role("button", name="Save").click()
    row.get_by_text("Password: not set").wait_for()
    conn.refresh_from_db()
    assert conn.host == "db2.internal" and not conn.has_secret

    # In use: the delete is refused, naming the workflow, in the row.
    graph = {**CHURN_GRAPH, "name": "CRM sync",
             "nodes": [{**CHURN_GRAPH["nodes"][0], "connections": ["crm"]}], "edges": []}
    workflow_create(tenant=demo, graph=graph)
    page.reload()
    crm.get_by_text("CRM sync").wait_for()  # used by
    crm.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete connection").get_by_role("button", name="Delete").click()
    refused = page.get_by_test_id("connection-crm-error")
    refused.get_by_text("The connection 'crm' is used by workflows: CRM sync.").wait_for()
    assert Connection.objects.filter(name="crm").exists()
    shot(page, "admin-connections-in-use")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete connection").get_by_role("button", name="Delete").click()
    row.wait_for(state="detached")
    assert not Connection.objects.filter(name="warehouse").exists()
