"""Outputs discovered at upload (sb.glue and the cell tagged `outputs`) are on the node when it is dropped."""
from pathlib import Path

import pytest

from browser.conftest import login
from browser.helpers import drop_notebook, select_node
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCORE = Path(__file__).resolve().parents[1] / "catalog" / "notebooks" / "score.ipynb"


def test_dropping_a_notebook_offers_its_discovered_outputs(page, demo, shot):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")
    page.get_by_test_id("palette-upload-input").set_input_files(str(SCORE))
    page.get_by_text("Uploaded score.ipynb: 2 parameters, 6 outputs found.").wait_for()

    drop_notebook(page, "score.ipynb", 140, 520)
    node = page.locator("[data-testid=node-score]")
    node.wait_for()
    for name, type_ in [("n_above", "int"), ("label", "str"), ("flagged", "bool"), ("summary", "dict"), ("best_score", "any")]:
        assert node.locator(f"[data-output={name}] .port-type").inner_text() == type_

    # Still editable by hand: remove one, the inspector offers it back; add one of your own.
    select_node(page, "score")
    inspector = page.get_by_test_id("inspector")
    inspector.get_by_role("button", name="Remove output label").click()
    page.wait_for_selector("[data-testid=node-score] [data-output=label]", state="detached")
    offered = inspector.get_by_test_id("discovered-outputs")
    offered.get_by_role("button", name="+ label").wait_for()
    inspector.get_by_label("New output name").fill("extra")
    inspector.get_by_label("New output name").press("Enter")
    page.wait_for_selector("[data-testid=node-score] [data-output=extra]")
    shot(page, "discovered-outputs")
    offered.get_by_role("button", name="+ label").click()
    page.wait_for_selector("[data-testid=node-score] [data-output=label]")
    assert inspector.get_by_test_id("discovered-outputs").count() == 0
