"""The editor's daily paper cuts, each checked in Chromium at 1280×800 and seen in a screenshot."""
import pytest

from browser.conftest import login
from browser.helpers import select_node
from tenancy.models import Membership, Role, Tenant
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_churn(page):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    page.wait_for_timeout(300)  # the fit
    return workflow


def zoom(page) -> float:
    return page.locator(".react-flow__viewport").evaluate("el => new DOMMatrix(getComputedStyle(el).transform).a")


def test_fit_keeps_text_readable_and_full_names_are_on_hover(page, demo, shot):
    open_churn(page)
    page.get_by_role("button", name="Fit").click()
    page.wait_for_timeout(300)
    name = page.locator("[data-testid=node-ingest] [data-output=dataset_path] .port-name")
    size = float(name.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) * zoom(page)
    assert size >= 10.8, f"port names are {size:.1f} px on screen"
    assert name.get_attribute("title") == "dataset_path"  # cut on the node, whole on hover
    assert page.locator("[data-testid=node-train] .loom-node-id").get_attribute("title") == "train"
    shot(page, "fit-readable")
    # Shift F: the whole graph, for an overview.
    page.keyboard.press("Shift+F")
    page.wait_for_timeout(400)
    assert zoom(page) < 0.9
    canvas = page.get_by_test_id("canvas").bounding_box()
    for node in ("ingest", "report"):
        box = page.locator(f"[data-testid=node-{node}]").bounding_box()
        assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
    shot(page, "fit-whole")


def test_plus_puts_each_node_on_free_canvas_clear_of_the_minimap(page, demo, shot):
    open_churn(page)
    apart = lambda a, b: a["x"] >= b["x"] + b["width"] or b["x"] >= a["x"] + a["width"] or a["y"] >= b["y"] + b["height"] or b["y"] >= a["y"] + a["height"]
    minimap = page.locator(".react-flow__minimap").bounding_box()
    canvas = page.get_by_test_id("canvas").bounding_box()
    for i in range(2, 7):
        page.get_by_role("button", name="Add ingest.ipynb").click()
        page.wait_for_timeout(300)  # the view pans to a node that had no room in it
        new = page.locator(f"[data-testid=node-ingest_{i}]").bounding_box()
        assert apart(new, minimap), (i, new, minimap)  # it lands in sight, not under the minimap
        assert canvas["x"] <= new["x"] and new["x"] + new["width"] <= canvas["x"] + canvas["width"], (i, new)
        if i == 4:
            shot(page, "plus-free-spots")
    boxes = [page.locator(f"[data-testid=node-{n}]").bounding_box() for n in ("ingest", "train", "report", *(f"ingest_{i}" for i in range(2, 7)))]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert apart(a, b), (a, b)


def test_rename_is_a_labelled_field_with_the_rules(page, demo, shot):
    open_churn(page)
    select_node(page, "ingest")
    inspector = page.get_by_test_id("inspector")
    field = inspector.get_by_label("Node id")
    assert field.is_visible()
    assert "Letters, digits and _, not starting with a digit" in inspector.locator(".node-id-field").inner_text()
    field.fill("2 bad")
    field.press("Enter")
    inspector.get_by_role("alert").filter(has_text="Use letters, digits and _").wait_for()
    shot(page, "rename-field")
    field.fill("load")
    field.press("Enter")
    page.wait_for_selector("[data-testid=node-load]")
    assert page.locator(".react-flow__edge").count() == 2  # the wire followed


def test_run_dialog_without_airflow_and_the_full_shortcut_list(page, demo, shot, settings):
    settings.LOOM_AIRFLOW_URL = ""
    open_churn(page)
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_test_id("run-dialog")
    dialog.get_by_test_id("no-airflow").wait_for()
    assert "Airflow is not set up here" in dialog.get_by_test_id("no-airflow").inner_text()
    assert dialog.locator("input[name=engine]").count() == 1 and dialog.get_by_text("Airflow", exact=True).count() == 0
    shot(page, "run-without-airflow")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Keyboard shortcuts").click()
    help_ = page.get_by_role("dialog")
    help_.get_by_text("Ctrl/⌘ Enter").wait_for()
    assert "Run" in help_.inner_text()


def test_one_workspace_goes_straight_in_and_the_last_one_is_remembered(page, demo, shot):
    login(page)
    page.wait_for_url("**/t/demo")
    assert page.get_by_role("link", name="Switch workspace").count() == 0

    other = Tenant.objects.create(slug="labs", name="Labs")
    Membership.objects.create(tenant=other, user=Membership.objects.get(tenant=demo, user__username="editor").user, role=Role.EDITOR)
    page.goto("/")
    page.wait_for_url("**/t/demo")  # the last one used
    page.get_by_role("link", name="Switch workspace").click()
    page.locator(".tenant-card", has_text="Labs").wait_for()
    assert page.locator(".tenant-card").count() == 2
    shot(page, "workspaces")
    page.locator(".tenant-card", has_text="Labs").click()
    page.wait_for_url("**/t/labs")
    page.goto("/")
    page.wait_for_url("**/t/labs")
