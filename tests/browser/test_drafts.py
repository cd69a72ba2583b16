"""Nothing is lost: unsaved canvases come back in any tab, leaving asks first, a broken canvas is not saved to run."""
import pytest

from browser.conftest import login
from browser.helpers import drop_notebook
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_churn(page) -> Workflow:
    workflow = Workflow.objects.get(name="Churn per account")
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    return workflow


def test_unsaved_changes_come_back_in_another_tab_and_can_be_discarded(page, demo, shot):
    login(page)
    workflow = open_churn(page)
    drop_notebook(page, "ingest.ipynb", 120, 520)
    page.wait_for_selector("[data-testid=node-ingest_2]")
    page.get_by_test_id("dirty").wait_for()
    page.wait_for_timeout(600)  # the draft is kept a moment after the edit

    # Another tab of the same browser, opened later: the canvas is as it was left.
    other = page.context.new_page()
    other.goto(f"/t/demo/workflows/{workflow.pk}")
    banner = other.get_by_test_id("draft-banner")
    banner.get_by_text("Restored your unsaved changes").wait_for()
    other.wait_for_selector("[data-testid=node-ingest_2]")
    assert other.get_by_test_id("dirty").is_visible()
    assert "started from version 1" in banner.inner_text()
    shot(other, "draft-restored")

    banner.get_by_role("button", name="Discard").click()
    other.wait_for_selector("[data-testid=node-ingest_2]", state="detached")
    other.get_by_test_id("saved").wait_for()
    assert banner.count() == 0
    other.reload()
    other.wait_for_selector("[data-testid=node-report]")
    assert other.get_by_test_id("draft-banner").count() == 0
    assert other.evaluate("Object.keys(localStorage).filter(k => k.startsWith('loom.draft.'))") == []
    other.close()

    # A save keeps the changes as a version and the draft goes.
    drop_notebook(page, "report.ipynb", 420, 520)
    page.wait_for_selector("[data-testid=node-report_2]")
    page.keyboard.press("Control+s")
    page.get_by_test_id("saved").wait_for()
    page.reload()
    page.wait_for_selector("[data-testid=node-report_2]")
    assert page.get_by_test_id("draft-banner").count() == 0
    workflow.refresh_from_db()
    assert workflow.latest_version == 2


def test_leaving_with_unsaved_changes_asks_first(page, demo, shot):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto("/t/demo")  # opened from the list, so Back stays in the app
    page.get_by_role("link", name="Churn per account").click()
    page.wait_for_selector("[data-testid=node-report]")
    editor_url = page.url
    drop_notebook(page, "ingest.ipynb", 120, 520)
    page.wait_for_selector("[data-testid=node-ingest_2]")

    # "← Workflows": Stay keeps the editor as it is.
    page.get_by_role("link", name="Back to workflows").click()
    dialog = page.get_by_test_id("leave-dialog")
    dialog.get_by_text("Your changes to this workflow are not saved as a version.").wait_for()
    shot(page, "leave-guard")
    dialog.get_by_role("button", name="Stay").click()
    assert page.url == editor_url
    assert page.locator("[data-testid=node-ingest_2]").count() == 1

    # The browser's Back button: refused, the address stays.
    page.go_back()
    dialog.wait_for()
    assert page.url == editor_url
    dialog.get_by_role("button", name="Stay").click()

    # Switching workspace (the brand link): Leave goes, and the draft is offered back on return.
    page.locator(".editor-bar .brand").click()
    dialog.get_by_role("button", name="Leave", exact=True).click()
    page.wait_for_url(lambda url: "/workflows/" not in url)
    page.goto(editor_url)
    page.get_by_test_id("draft-banner").wait_for()
    page.wait_for_selector("[data-testid=node-ingest_2]")

    # Save and leave: a new version, then the workflows page.
    page.get_by_role("link", name="Back to workflows").click()
    dialog.get_by_role("button", name="Save and leave").click()
    page.get_by_role("table", name="Workflows").wait_for()
    workflow.refresh_from_db()
    assert workflow.latest_version == 2
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('loom.draft.'))") == []

    # Closing or reloading the tab with unsaved changes: the browser's own question.
    page.goto(editor_url)
    drop_notebook(page, "ingest.ipynb", 120, 620)
    page.wait_for_selector("[data-testid=node-ingest_3]")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.accept()))
    page.reload()
    page.wait_for_selector("[data-testid=node-report]")
    assert asked == ["beforeunload"]


def test_save_and_run_with_problems_saves_nothing(page, demo, shot):
    login(page)
    workflow = open_churn(page)
    drop_notebook(page, "train.ipynb", 120, 520)  # `account` is required and nothing gives it
    page.wait_for_selector("[data-testid=node-train_2]")
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_test_id("run-dialog")
    dialog.get_by_role("button", name="Save and run").click()
    dialog.get_by_role("alert").get_by_text("Not saved, not run").wait_for()
    assert "train_2" in dialog.locator(".problem-list").inner_text()
    shot(page, "save-and-run-problems")
    workflow.refresh_from_db()
    assert workflow.latest_version == 1
