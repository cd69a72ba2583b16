"""A global parameter's reach is on the canvas: an indicator on each port it feeds, and the node's inspector lists it."""
import pytest

from browser.conftest import login
from browser.helpers import select_node
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ports_fed_by_a_global_say_so(page, demo, shot):
    workflow = Workflow.objects.get(name="Churn per account")
    login(page)
    page.goto(f"/t/demo/workflows/{workflow.pk}")
    page.wait_for_selector("[data-testid=node-report]")

    fed = lambda node: sorted(page.locator(f"[data-testid=node-{node}] [data-global]").evaluate_all("els => els.map(e => e.dataset.global)"))
    assert fed("ingest") == ["accounts", "n_accounts", "run_date"]
    assert fed("train") == []
    assert fed("report") == []  # its `accounts` parameter is bound to train's items: an edge feeds it, not the global

    select_node(page, "ingest")
    globals_ = page.get_by_test_id("node-globals")
    assert globals_.locator("[data-reaches=true]", has_text="run_date").count() == 1

    # A value on the node shadows the global: the indicator goes, the inspector says why.
    page.get_by_label("run_date", exact=True).fill("2026-11-02")
    page.get_by_label("run_date", exact=True).blur()
    page.wait_for_selector("[data-testid=node-ingest] [data-global=run_date]", state="detached")
    assert "set on this node" in globals_.locator("[data-reaches=false]", has_text="run_date").inner_text()
    assert fed("ingest") == ["accounts", "n_accounts"]
    shot(page, "global-reach")
