"""The editor in a real browser: build, save and run a workflow; validation; a stale save."""
import pytest
from django.apps import apps

from browser.conftest import login
from browser.helpers import add_output, canvas_box, connect, drop_notebook, save, select_node
from workflows import selectors, services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_workflow(page, name: str):
    page.get_by_role("button", name="New workflow").click()  # the demo users have one workspace: they land in it
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector("[data-testid=canvas]")
    page.wait_for_selector("[data-testid='palette-ingest.ipynb']")


def test_build_save_and_run_a_workflow(page, demo, shot, console, request):
    login(page)
    new_workflow(page, "Churn from the browser")
    box = canvas_box(page)

    drop_notebook(page, "ingest.ipynb", 150, 120)
    drop_notebook(page, "train.ipynb", 440, 300)
    drop_notebook(page, "report.ipynb", 150, 480)
    for node in ("ingest", "train", "report"):
        page.wait_for_selector(f"[data-testid=node-{node}]")
    assert box["width"] > 600

    # A global list parameter: report.accounts takes it, train fans out over it.
    page.get_by_role("tab", name="Workflow").click()
    page.get_by_role("button", name="Add global parameter").click()
    row = page.locator(".global-row").last
    row.get_by_label("Global parameter name").fill("accounts")
    row.get_by_label("Global parameter name").press("Enter")
    page.locator(".global-row").last.get_by_label("Type of accounts").select_option("list")
    default = page.get_by_label("Default of accounts")
    default.fill('["acme", "globex"]')
    default.blur()

    add_output(page, "ingest", "dataset_path", "str")
    add_output(page, "train", "auc", "float")
    inspector = page.locator("[data-testid=inspector]")
    inspector.get_by_label("Map over").select_option("accounts")
    inspector.get_by_label("Map parameter").select_option("account")

    connect(page, "ingest", "dataset_path", "train", "input_path")
    connect(page, "train", "auc", "report", "aucs")
    page.wait_for_selector(".react-flow__edge >> nth=1")
    assert page.locator(".react-flow__edge").count() == 2

    select_node(page, "train")
    assert inspector.locator("[data-testid=param-input_path] [data-testid=value-source]").get_attribute("data-layer") == "edge"
    assert inspector.locator("[data-testid=param-account] [data-testid=value-source]").get_attribute("data-layer") == "map"
    select_node(page, "report")
    assert inspector.locator("[data-testid=param-accounts] [data-testid=value-source]").get_attribute("data-layer") == "global"

    page.keyboard.press("l")  # automatic layout
    page.wait_for_timeout(400)
    save(page)
    assert page.locator("[data-testid=version]").inner_text() == "v2"
    assert page.locator("[data-testid=problem-count]").count() == 0
    shot(page, "editor")

    saved = selectors.workflow_version_get(workflow=Workflow.objects.get(name="Churn from the browser")).graph
    assert saved["parameters"] == [{"name": "accounts", "type": "list", "default": ["acme", "globex"], "help": ""}]
    assert {(e["source"], e["target"], tuple(e["bind"].items())) for e in saved["edges"]} == {
        ("ingest", "train", (("dataset_path", "input_path"),)), ("train", "report", (("auc", "aucs"),)),
    }

    if not apps.is_installed("runs"):
        pytest.skip("the run API (backend/runs) is not on this branch yet; everything up to the run passed")
    request.getfixturevalue("worker")

    page.get_by_role("button", name="▶ Run").click()
    dialog = page.locator("[data-testid=run-dialog]")
    dialog.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector("[data-testid=runs-panel]")
    for node in ("ingest", "train", "report"):
        page.wait_for_selector(f"[data-testid=node-{node}][data-status=success]", timeout=120_000)
    shot(page, "run-view")

    select_node(page, "train")
    page.get_by_test_id("items-train").get_by_test_id("item-row-0").click()  # an item's card opens from its row
    page.locator("[data-testid=node-run-train-0]").get_by_role("button", name="Open executed notebook").click()
    frame = page.frame_locator("[data-testid=notebook-viewer] iframe")
    frame.locator("body").get_by_text("auc=").first.wait_for()
    shot(page, "executed-notebook")
    page.keyboard.press("Escape")
    card = page.locator("[data-testid=node-run-train-0]")
    assert "auc" in card.locator(".outputs").inner_text()
    assert "1 attempt" in card.inner_text()
    assert "train · acme" in card.inner_text()  # an item is labelled by its value
    assert "2 items" in page.locator("[data-testid=node-train] [data-status]").first.inner_text()
    shot(page, "run-node-details")

    page.get_by_role("link", name="Back to workflows").click()
    page.locator("[data-testid^=workflow-row]", has_text="Churn from the browser").get_by_text("success").wait_for()


def test_validation_errors_show_on_the_node_and_field(page, demo, shot):
    login(page)
    new_workflow(page, "Needs a value")
    drop_notebook(page, "ingest.ipynb", 150, 150)
    drop_notebook(page, "train.ipynb", 480, 150)
    page.wait_for_selector("[data-testid=node-train]")

    # A wire whose types do not fit is refused, with the reason.
    add_output(page, "ingest", "row_count", "int")
    connect(page, "ingest", "row_count", "train", "input_path")
    page.get_by_role("alert").filter(has_text="'input_path' expects a str, but ingest.row_count is an int.").wait_for()
    assert page.locator(".react-flow__edge").count() == 0

    page.keyboard.press("Control+s")
    node = page.locator("[data-testid=node-train][data-errors='1']")
    node.wait_for()
    assert node.locator(".port-error[data-param=account]").count() == 1
    assert page.locator("[data-testid=problem-count]").inner_text() == "1 problem"

    select_node(page, "train")
    error = page.locator("[data-testid=inspector] [data-testid=param-account] .field-error")
    assert "'account' is required (train.ipynb sets it to None) and nothing gives it a value." in error.inner_text()
    shot(page, "validation-error")

    # Giving it a value clears the problem (live validation, before any save).
    page.get_by_label("account", exact=True).fill("acme")
    page.get_by_label("account", exact=True).press("Enter")
    page.locator("[data-testid=node-train][data-errors='0']").wait_for()


def test_stale_save_offers_reload_or_overwrite(page, demo, shot, console):
    console.allow(r"status of 409")
    workflow = Workflow.objects.get(tenant=demo, name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")

    def someone_else_saves(description: str):
        workflow.refresh_from_db()
        current = selectors.workflow_version_get(workflow=workflow)
        services.workflow_update(workflow=workflow, graph={**current.graph, "description": description}, base_version=current.number)

    someone_else_saves("Edited elsewhere")
    page.get_by_role("tab", name="Workflow").click()
    page.get_by_test_id("workflow-name").fill("Churn, my edit")
    page.get_by_test_id("workflow-name").press("Enter")
    page.keyboard.press("Control+s")
    dialog = page.locator("[data-testid=conflict-dialog]")
    dialog.wait_for()
    assert "version 2 was saved" in dialog.inner_text()
    shot(page, "conflict")

    dialog.get_by_role("button", name="Reload version 2").click()
    page.wait_for_selector("[data-testid=saved]")
    assert page.get_by_test_id("workflow-name").input_value() == "Churn per account"
    assert page.locator("[data-testid=version]").inner_text() == "v2"

    someone_else_saves("Edited elsewhere again")
    page.get_by_test_id("workflow-name").fill("Churn, mine wins")
    page.get_by_test_id("workflow-name").press("Enter")
    page.get_by_role("button", name="Save", exact=True).click()
    dialog.get_by_role("button", name="Overwrite with my changes").click()
    page.wait_for_selector("[data-testid=saved]")
    assert page.locator("[data-testid=version]").inner_text() == "v4"
    workflow.refresh_from_db()
    assert (workflow.name, workflow.latest_version) == ("Churn, mine wins", 4)


def test_a_failed_node_shows_its_error_and_repair(page, demo, shot, request):
    if not apps.is_installed("runs"):
        pytest.skip("the run API (backend/runs) is not on this branch yet")
    request.getfixturevalue("worker")
    version = services.workflow_create(tenant=demo, graph={
        "name": "Fails on purpose",
        "nodes": [{"id": "train", "notebook": "train.ipynb", "parameters": {"account": "acme", "input_path": "/no/such/file.json"},
                   "outputs": ["auc"], "position": {"x": 0, "y": 0}},
                  {"id": "report", "notebook": "report.ipynb", "position": {"x": 360, "y": 0}}],
        "edges": [{"source": "train", "target": "report", "bind": {"auc": "aucs"}}],
    })
    login(page)
    page.goto(f"/t/demo/workflows/{version.workflow_id}")
    page.wait_for_selector("[data-testid=node-train]")
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("run-dialog").get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector("[data-testid=node-train][data-status=failed]", timeout=60_000)
    page.wait_for_selector("[data-testid=node-report][data-status=upstream_failed]", timeout=30_000)
    assert "?run=" in page.url

    select_node(page, "train")
    error = page.locator("[data-testid=node-run-train] .run-error")
    assert "No such file or directory" in error.inner_text()
    shot(page, "run-failed")

    page.reload()  # the run is in the address
    page.wait_for_selector("[data-testid=node-train][data-status=failed]")
    page.get_by_role("tab", name="Runs").click()
    page.get_by_role("button", name="Repair…").click()
    page.get_by_test_id("repair-dialog").get_by_role("button", name="Repair", exact=True).click()
    page.get_by_text("rerunning train, report").wait_for()
    page.wait_for_selector("[data-testid=node-train][data-status=failed]", timeout=60_000)
