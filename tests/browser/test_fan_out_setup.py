"""Setting up a fan-out in the editor: Map over offers every list without a wire first, a list
dropped on a parameter taking one value offers to fan out, the node's name stays visible beside
a long list name, and a pasted fanned-out node keeps a list it can see."""
import pytest

from browser.conftest import login
from browser.helpers import connect, save, select_node
from workflows import selectors
from workflows.models import Workflow
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "accounts_of_the_largest_customers_this_quarter"


def test_map_over_offers_every_list_and_a_dropped_list_fans_out(page, demo, shot):
    workflow = workflow_create(tenant=demo, graph={
        "name": "Fan-out setup",
        "parameters": [{"name": "regions", "type": "list", "default": ["eu", "us"]}],
        "nodes": [{"id": "ingest", "notebook": "ingest.ipynb", "outputs": [{"name": LONG, "type": "list"}],
                   "position": {"x": 0, "y": 0}},
                  {"id": "train", "notebook": "train.ipynb", "position": {"x": 420, "y": 0}}],
    }).workflow
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-train]")
    select_node(page, "train")
    map_over = page.get_by_test_id("inspector").get_by_label("Map over")
    offered = map_over.locator("option").all_inner_texts()
    assert offered == ["— run once", "regions", f"ingest.{LONG}"]  # no wire drawn yet
    map_over.select_option(f"ingest.{LONG}")
    # Choosing a list of a node not upstream orders the two nodes with a wire.
    page.wait_for_selector(".react-flow__edge", state="attached")
    assert page.locator(".react-flow__edge").count() == 1
    name = page.locator("[data-testid=node-train] .loom-node-id")
    assert name.inner_text() == "train"
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth && el.clientWidth > 20"), "the node's name is cut"
    shot(page, "fan-out-long-list")

    map_over.select_option("")  # run once again, then fan out by dropping the list on 'account'
    page.wait_for_selector("[data-testid=node-train] .chip-map", state="detached")
    connect(page, "ingest", LONG, "train", "account")
    dialog = page.get_by_role("dialog", name="Fan out over this list?")
    assert "one run per item" in dialog.inner_text()
    shot(page, "fan-out-offer")
    dialog.get_by_role("button", name="Fan out").click()
    page.wait_for_selector("[data-testid=node-train] .chip-map")
    save(page)
    graph = selectors.workflow_version_get(workflow=Workflow.objects.get(pk=workflow.pk)).graph
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    assert (train["map_over"], train["map_parameter"]) == (f"ingest.{LONG}", "account")
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [("ingest", "train")]

    # A pasted copy keeps the list (its node is on this canvas) and is wired after it.
    select_node(page, "train")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    page.wait_for_selector("[data-testid=node-train_2] .chip-map")
    save(page)
    graph = selectors.workflow_version_get(workflow=Workflow.objects.get(pk=workflow.pk)).graph
    pasted = next(n for n in graph["nodes"] if n["id"] == "train_2")
    assert pasted["map_over"] == f"ingest.{LONG}"
    assert ("ingest", "train_2") in [(e["source"], e["target"]) for e in graph["edges"]]
