"""A notebook's page: its signature, who uses it, its rendered preview, a diff between versions, and a delete refused while in use."""
import json
from pathlib import Path

import pytest

from browser.conftest import login
from catalog.services import notebook_upload
from helpers import notebook_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_notebook_page_diff_and_delete(page, demo, shot, console):
    nb = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "ingest.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    cell["source"] = "".join(cell["source"]) + "\nlimit: int = 100  # rows at most"
    notebook_upload(tenant=demo, name="ingest.ipynb", data=json.dumps(nb).encode())
    notebook_upload(tenant=demo, name="scratch.ipynb", data=notebook_bytes("x = 1"))

    login(page)
    page.get_by_role("table", name="Notebooks").get_by_role("link", name="ingest.ipynb").click()
    body = page.get_by_test_id("notebook-page")
    body.get_by_text("Used by Churn per account").wait_for()
    # Which versions run it: the demo's version 1 pinned the notebook's version 1 (the upload above is v2).
    body.get_by_role("list", name="Workflow versions that run it").get_by_text("v1 runs notebook v1").wait_for()
    assert "limit" in body.locator(".param-pills").inner_text()

    page.get_by_label("Compare with").select_option("1")
    diff = page.get_by_test_id("notebook-diff")
    diff.locator(".diff-added", has_text="limit: int = 100").wait_for()
    assert diff.locator(".diff-removed").count() == 0
    diff.get_by_text("code [parameters] · modified (source)").wait_for()  # nbdime's per-cell view, from the backend
    shot(page, "notebook-page")
    preview = page.frame_locator("[data-testid=notebook-preview]")
    preview.locator("h1", has_text="Ingest").wait_for()  # rendered by nbconvert, in a sandbox
    preview.get_by_text("limit").first.wait_for()
    page.get_by_test_id("notebook-preview").scroll_into_view_if_needed()
    shot(page, "notebook-preview")

    console.allow(r"status of 409")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_role("alert").get_by_text("The notebook is used by workflows: Churn per account.").wait_for()

    page.goto("/t/demo")
    page.get_by_role("table", name="Notebooks").get_by_role("link", name="scratch.ipynb").click()
    page.get_by_test_id("used-by").get_by_text("No workflow uses it.").wait_for()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted scratch.ipynb.").wait_for()
    assert page.get_by_role("table", name="Notebooks").get_by_text("scratch.ipynb").count() == 0
