"""Workflow history: who saved what when, a readable diff with changed nodes marked, an old version read-only, restore."""
import pytest

from browser.conftest import login
from workflows import selectors, services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compare_open_and_restore_a_version(page, demo, shot):
    workflow = Workflow.objects.get(name="Churn per account")
    v1 = selectors.workflow_version_get(workflow=workflow).graph
    graph = {**v1, "description": "Tuned", "nodes": [
        {**n, "parameters": {**n["parameters"], "threshold": 0.9}} if n["id"] == "report" else n for n in v1["nodes"]]}
    from django.contrib.auth import get_user_model

    services.workflow_update(workflow=workflow, graph=graph, base_version=1, user=get_user_model().objects.get(username="editor"))

    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    page.get_by_role("tab", name="History").click()
    panel = page.get_by_test_id("history-panel")
    panel.get_by_test_id("version-2").get_by_text("latest").wait_for()
    assert "editor · just now" in panel.get_by_test_id("version-2").inner_text()  # who and when

    panel.get_by_test_id("version-1").get_by_role("button", name="Compare").click()
    diff = page.get_by_test_id("version-diff")
    diff.get_by_text("Changes from v1 to the canvas").wait_for()
    text = diff.inner_text()
    assert "description" in text and "Tuned" in text
    assert "node report: parameter threshold: 0.75 → 0.9" in text
    page.wait_for_selector("[data-testid=node-report][data-diff=changed]")
    assert page.locator("[data-testid=node-train][data-diff=changed]").count() == 0
    shot(page, "version-diff")

    panel.get_by_test_id("version-1").get_by_role("button", name="Open").click()
    banner = page.get_by_test_id("viewing-banner")
    banner.get_by_text("Version 1").wait_for()
    assert page.get_by_test_id("version").inner_text() == "v1"
    assert page.get_by_role("button", name="Save", exact=True).count() == 0  # read only
    shot(page, "version-open")

    banner.get_by_role("button", name="Restore as new version").click()
    page.get_by_text("Restored version 1 as version 3.").wait_for()
    page.wait_for_selector("[data-testid=version]:has-text('v3')")
    assert page.get_by_test_id("viewing-banner").count() == 0
    workflow.refresh_from_db()
    assert workflow.latest_version == 3
    restored = selectors.workflow_version_get(workflow=workflow).graph
    assert restored["description"] == v1["description"] and restored["nodes"] == v1["nodes"]


def test_a_newer_notebook_version_is_announced_and_applied(page, demo, shot):
    import json
    from pathlib import Path

    from catalog.services import notebook_upload

    workflow = Workflow.objects.get(name="Churn per account")  # its version 1 runs ingest.ipynb v1
    nb = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "ingest.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    cell["source"] = "".join(cell["source"]) + "\nlimit: int = 100  # rows at most"
    nb["cells"].append({"id": "loom-outputs-cell", "cell_type": "code", "metadata": {"tags": ["outputs"]}, "source": "n_rows = 0", "outputs": [], "execution_count": None})
    notebook_upload(tenant=demo, name="ingest.ipynb", data=json.dumps(nb).encode())

    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-ingest]")
    page.locator("[data-testid=node-ingest] .loom-node-header").click()
    notice = page.get_by_test_id("newer-notebook")
    notice.get_by_text("has a newer version: v2 (the saved workflow runs v1)").wait_for()
    notice.get_by_role("button", name="What changes").click()
    notice.get_by_text("added parameter limit: int").wait_for()
    assert "ADDED output n_rows: int" in notice.inner_text()  # the kind is shown in capitals
    shot(page, "newer-notebook")

    notice.get_by_role("button", name="Update this node").click()
    page.wait_for_selector("[data-testid=node-ingest] [data-output=n_rows]")
    page.keyboard.press("Control+s")
    page.get_by_test_id("saved").wait_for()
    assert notice.count() == 0  # the new version pins ingest.ipynb v2
    workflow.refresh_from_db()
    assert selectors.workflow_version_get(workflow=workflow).notebook_pins["ingest.ipynb"]["version"] == 2
