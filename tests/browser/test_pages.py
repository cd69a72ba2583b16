"""The pages around the editor, and the editor's keyboard: workspaces, workflows, shortcuts."""
import pytest
from django.apps import apps

from browser.conftest import login
from browser.helpers import drop_notebook, select_node
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_workflows_rename_duplicate_delete(page, demo, shot):
    login(page)
    page.wait_for_url("**/t/demo")  # the only workspace of this user: no picker
    table = page.get_by_role("table", name="Workflows")
    table.get_by_text("Churn per account").wait_for()
    page.get_by_role("table", name="Notebooks").get_by_text("train.ipynb").wait_for()
    assert "never run" in table.inner_text()

    page.get_by_role("button", name="Duplicate").click()
    page.get_by_role("button", name="Duplicate", exact=True).last.click()
    table.get_by_text("Churn per account (copy)").wait_for()

    row = page.locator("tr", has_text="Churn per account (copy)")
    row.get_by_role("button", name="Rename").click()
    page.get_by_role("textbox", name="Name").fill("Churn, second try")
    page.get_by_role("button", name="Rename", exact=True).last.click()
    table.get_by_text("Churn, second try").wait_for()
    shot(page, "workflows")

    page.locator("tr", has_text="Churn, second try").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted “Churn, second try”.").wait_for()
    assert list(Workflow.objects.values_list("name", "latest_version")) == [("Churn per account", 1)]


def test_editor_keyboard_shortcuts(page, demo, console, shot):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    nodes = page.locator(".react-flow__node")
    assert nodes.count() == 3

    select_node(page, "report")
    page.locator("[data-testid=canvas] .react-flow__pane").click(position={"x": 20, "y": 20})
    select_node(page, "report")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    page.wait_for_selector("[data-testid=node-report_2]")
    page.get_by_test_id("dirty").wait_for()

    page.keyboard.press("Delete")
    page.wait_for_selector("[data-testid=node-report_2]", state="detached")
    page.keyboard.press("Control+z")
    page.wait_for_selector("[data-testid=node-report_2]")
    page.keyboard.press("Control+z")
    page.wait_for_selector("[data-testid=node-report_2]", state="detached")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_selector("[data-testid=node-report_2]")

    drop_notebook(page, "ingest.ipynb", 100, 500)
    page.wait_for_selector("[data-testid=node-ingest_2]")
    page.keyboard.press("Control+s")
    page.get_by_test_id("saved").wait_for()
    workflow.refresh_from_db()
    assert workflow.latest_version == 2

    page.get_by_role("button", name="DAG code").click()
    dialog = page.get_by_test_id("dag-dialog")
    if apps.is_installed("dags"):
        dialog.get_by_test_id("dag-code").get_by_text("from airflow").first.wait_for()
        shot(page, "dag-code")
    else:
        console.allow(r"status of 404")
        dialog.get_by_text("DAG rendering is not available on this server yet.").wait_for()
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    page.get_by_role("dialog").get_by_text("Automatic layout").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")


def test_upload_a_notebook_from_the_palette(page, demo, tmp_path, console):
    from helpers import notebook_bytes

    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    path = tmp_path / "score.ipynb"
    path.write_bytes(notebook_bytes('threshold: float = 0.5\nlabel = "x"'))
    page.get_by_test_id("palette-upload-input").set_input_files(str(path))
    page.get_by_text("Uploaded score.ipynb: 2 parameters.").wait_for()
    page.get_by_label("Search notebooks").fill("sco")
    page.wait_for_selector("[data-testid='palette-score.ipynb']")
    assert page.locator(".palette-item").count() == 1

    console.allow(r"status of 400")
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    page.get_by_test_id("palette-upload-input").set_input_files(str(bad))
    page.get_by_role("alert").filter(has_text="broken.ipynb: The file is not valid JSON").wait_for()


def test_a_viewer_reads_but_cannot_edit(page, demo):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page, "viewer")
    page.get_by_role("table", name="Workflows").get_by_text("Churn per account").wait_for()
    assert page.get_by_role("button", name="New workflow").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0

    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-train]")
    page.get_by_text("Read only: your role in this workspace is viewer.").wait_for()
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.locator("[data-testid^=node-menu-]").count() == 0  # no run menu on the nodes either
    select_node(page, "train")
    assert page.get_by_label("Map over").is_disabled()
    page.keyboard.press("Delete")
    page.keyboard.press("Control+s")
    assert page.locator("[data-testid=node-train]").count() == 1
    assert page.get_by_test_id("saved").is_visible()
