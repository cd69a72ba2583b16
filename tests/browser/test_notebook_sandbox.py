"""A notebook whose output is a <script>: opened from a link by a logged-in user, the executed
notebook's HTML runs nothing on Loom's origin (issue 11, served notebooks)."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from browser.conftest import login
from helpers import notebook_bytes, upload
from tests.runs.support import wait_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT_CELL = (
    "from IPython.display import HTML, display\n"
    "display(HTML(\"<script>document.documentElement.dataset.ran = 'yes';"
    " fetch('/api/auth/me/').then(r => r.text()).then(t => document.title = t)</script>"
    "<p id='marker'>printed by the notebook</p>\"))"
)


def test_a_script_in_an_executed_notebook_cannot_run_on_loom_origin(page, demo, worker, console, shot):
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="editor"))
    assert upload(api, "demo", "evil.ipynb", notebook_bytes(None, SCRIPT_CELL)).status_code == 201
    graph = {"name": "evil", "nodes": [{"id": "evil", "notebook": "evil.ipynb"}], "edges": []}
    wid = api.post("/api/tenants/demo/workflows/", graph, format="json").json()["id"]
    run = api.post(f"/api/tenants/demo/workflows/{wid}/runs/", {"engine": "local"}, format="json").json()
    assert wait_run(api, "demo", run["id"], timeout=120)["status"] == "success"

    login(page, "admin")  # a platform admin following a link someone sent
    console.allow(r"sandboxed and the 'allow-scripts' permission is not set|Content Security Policy")
    page.goto(f"/api/tenants/demo/runs/{run['id']}/nodes/evil/notebook/?format=html")
    page.locator("#marker").wait_for()  # the page is shown, its output included ...
    shot(page, "sandboxed-notebook")
    # ... but the script before the marker did not run, and the page has no origin to act in.
    assert page.evaluate("document.documentElement.dataset.ran") is None
    assert page.evaluate("self.origin") == "null"
    assert "admin" not in page.title()

    # The editor's viewer shows the same notebook in its sandboxed frame, without the script.
    page.goto(f"/t/demo/workflows/{wid}")
    page.wait_for_selector("[data-testid=node-evil]")  # loaded: the tabs are the editor's now
    page.get_by_role("tab", name="Runs").click()
    page.locator(".run-history-item", has_text=f"#{run['id']}").click()
    page.locator(".node-run-list").get_by_role("button", name="evil").click()
    page.locator("[data-testid=node-run-evil]").get_by_role("button", name="Open executed notebook").click()
    page.frame_locator("[data-testid=notebook-viewer] iframe").locator("#marker").wait_for()
    frame = next(f for f in page.frames if f.url == "about:srcdoc")
    assert frame.evaluate("document.documentElement.dataset.ran") is None
    assert "<script" not in frame.content()
    shot(page, "sandboxed-notebook-in-editor")
