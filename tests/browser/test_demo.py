"""The demo `make run` ships: its churn pipeline runs (a model per generated account) and the
editor shows the run, its items and their AUCs. With LOOM_DEMO_SCREENSHOT=1 the test also
writes the README's screenshot, docs/images/demo-run.png."""
import os
import shutil

import pytest

from browser.conftest import ARTIFACTS, login
from browser.helpers import select_node
from runs import services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNTS = int(os.environ.get("LOOM_DEMO_ACCOUNTS", "6"))


def test_the_demo_pipeline_runs_and_shows_its_items(page, demo, worker, shot):
    workflow = Workflow.objects.get(tenant=demo, name="Churn per account")
    run = services.run_start(version=workflow.versions.latest("number"), parameters={"n_accounts": ACCOUNTS})
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}?run={run.pk}")
    page.wait_for_selector("[data-testid=node-report][data-status=success]", timeout=120_000 + ACCOUNTS * 20_000)
    assert f"{ACCOUNTS} items" in page.locator("[data-testid=node-train] [data-status]").first.inner_text()

    select_node(page, "train")
    page.keyboard.press("Shift+F")  # the whole graph, however small
    items = page.get_by_test_id("items-train")
    items.get_by_test_id("items-count").get_by_text(f"{ACCOUNTS} items").wait_for()
    items.get_by_label("Sort items").select_option("-outputs.auc")
    items.get_by_test_id("histogram-train").locator("rect.histogram-bar").first.wait_for()
    assert f"{ACCOUNTS} items" in items.get_by_test_id("histogram-train").inner_text()
    page.wait_for_timeout(600)
    shot(page, "demo-run")
    if os.environ.get("LOOM_DEMO_SCREENSHOT"):
        shutil.copy(ARTIFACTS / "demo-run.png", os.path.join(os.path.dirname(__file__), "../../docs/images/demo-run.png"))

    # Each item's executed notebook holds its model's metrics and its ROC plot.
    items.locator("[role=row][aria-rowindex='1']").click()
    card = page.locator("[data-testid^=node-run-train-]")
    card.get_by_role("button", name="Open executed notebook").click()
    frame = page.frame_locator("[data-testid=notebook-viewer] iframe")
    frame.locator("body").get_by_text("auc=").first.wait_for()
    assert frame.locator("img").count() >= 1  # the ROC curve
    page.keyboard.press("Escape")

    select_node(page, "report")
    report = page.get_by_test_id("node-run-report")
    assert "best_account" in report.inner_text() and "acct-" in report.inner_text()
