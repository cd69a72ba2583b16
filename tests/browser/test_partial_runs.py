"""Partial runs, the cache and repair with a fix, in the editor: the node's run menu, the run
dialog's plan, the badges of reused and cached nodes, and the repair dialog."""
import pytest

from browser.conftest import login
from catalog.services import notebook_upload
from helpers import notebook_bytes
from runs.models import Run
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHAIN = {"nodes": [{"id": "first", "notebook": "add.ipynb", "outputs": ["y"], "position": {"x": 0, "y": 0}},
                   {"id": "second", "notebook": "add2.ipynb", "outputs": ["y"], "position": {"x": 380, "y": 0}}],
         "edges": [{"source": "first", "target": "second", "bind": {"y": "x"}}]}


def run_from_dialog(page):
    page.get_by_test_id("run-dialog").get_by_role("button", name="Run", exact=True).click()


def test_node_menu_plan_and_badges(page, demo, shot, worker):
    notebook_upload(tenant=demo, name="add.ipynb", data=notebook_bytes("x = 1", "y = x + 1"))
    notebook_upload(tenant=demo, name="add2.ipynb", data=notebook_bytes("x = 1", "y = x * 10"))
    version = services.workflow_create(tenant=demo, graph={"name": "Chain", **CHAIN})
    login(page)
    page.goto(f"/t/demo/workflows/{version.workflow_id}")
    page.wait_for_selector("[data-testid=node-second]")
    page.keyboard.press("Control+Enter")
    run_from_dialog(page)
    page.wait_for_selector("[data-testid=node-second][data-status=success]", timeout=90_000)
    full = Run.objects.get(workflow_id=version.workflow_id)

    page.get_by_test_id("node-menu-second").click()
    menu = page.get_by_role("menu")
    assert [b.inner_text() for b in menu.get_by_role("menuitem").all()] == ["Run this node", "Run from here", "Run up to here"]
    shot(page, "node-run-menu")
    menu.get_by_role("menuitem", name="Run this node").click()
    dialog = page.get_by_test_id("run-dialog")
    assert "Only second" in dialog.locator("h2").inner_text()
    plan = dialog.get_by_test_id("run-plan")
    plan.locator("[data-node=first][data-action=reused]").wait_for()
    plan.locator("[data-node=second][data-action=cached]").wait_for()  # nothing changed: the cache answers
    assert f"from run #{full.pk}" in plan.locator("[data-node=first]").inner_text()
    shot(page, "run-dialog-plan")
    dialog.get_by_test_id("cache-toggle").uncheck()  # force it
    plan.locator("[data-node=second][data-action=run]").wait_for()
    dialog.get_by_test_id("cache-toggle").check()
    plan.locator("[data-node=second][data-action=cached]").wait_for()
    run_from_dialog(page)

    badge = page.locator("[data-testid=node-second] [data-testid=source-badge]")
    badge.wait_for(timeout=60_000)
    assert badge.inner_text() == f"cached · run #{full.pk}"
    assert page.locator("[data-testid=node-first] [data-testid=source-badge]").inner_text() == f"reused · run #{full.pk}"
    shot(page, "cached-badges")
    badge.click()  # shows the run it came from
    page.locator("[aria-label='Shown run']").get_by_text(f"Run #{full.pk}", exact=True).wait_for()
    page.locator("[data-testid=node-second] [data-testid=source-badge]").wait_for(state="detached")


def test_repair_dialog_offers_the_latest_version(page, demo, shot, worker):
    notebook_upload(tenant=demo, name="add.ipynb", data=notebook_bytes("x = 1", "y = x + 1"))
    notebook_upload(tenant=demo, name="add2.ipynb", data=notebook_bytes("x = 1", "raise ValueError('a bug')"))
    version = services.workflow_create(tenant=demo, graph={"name": "Buggy", **CHAIN})
    login(page)
    page.goto(f"/t/demo/workflows/{version.workflow_id}")
    page.wait_for_selector("[data-testid=node-second]")
    page.keyboard.press("Control+Enter")
    run_from_dialog(page)
    page.wait_for_selector("[data-testid=node-second][data-status=failed]", timeout=90_000)

    notebook_upload(tenant=demo, name="add2.ipynb", data=notebook_bytes("x = 1", "y = x * 10"))  # the fix
    services.workflow_update(workflow=version.workflow, graph={"name": "Buggy", **CHAIN}, base_version=1)
    page.reload()
    page.wait_for_selector("[data-testid=node-second][data-status=failed]")
    page.get_by_role("tab", name="Runs").click()
    page.get_by_role("button", name="Repair…").click()
    dialog = page.get_by_test_id("repair-dialog")
    assert dialog.get_by_test_id("repair-latest").locator("input").is_checked()
    assert dialog.get_by_test_id("repair-rerun").inner_text() == "second"
    assert "first" in dialog.get_by_test_id("repair-kept").inner_text()
    shot(page, "repair-dialog")
    dialog.get_by_role("button", name="Repair", exact=True).click()
    page.wait_for_selector("[data-testid=node-second][data-status=success]", timeout=90_000)
    run = Run.objects.get(workflow_id=version.workflow_id)
    assert run.version.number == 2
    assert {r.node: r.version.number for r in run.node_runs.all()} == {"first": 1, "second": 2}
    shot(page, "repaired")
