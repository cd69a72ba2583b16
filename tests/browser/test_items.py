"""The items of a fanned-out node in the editor: a virtualized table fed page by page, its
filters and sorts, the histogram of an output, and retrying the failed items. The 5,000 items
are made directly in the database, not run."""
from datetime import timedelta

import pytest
from django.utils import timezone

from browser.conftest import login
from browser.helpers import select_node
from runs.models import NodeRun, Run, Status
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = 5000


@pytest.fixture
def big_run(demo):
    workflow = workflow_create(tenant=demo, graph={
        "name": "Five thousand accounts",
        "parameters": [{"name": "accounts", "type": "list", "default": []}],
        "nodes": [{"id": "train", "notebook": "train.ipynb", "map_over": "accounts", "map_parameter": "account",
                   "max_failed_items": 100, "outputs": [{"name": "auc", "type": "float"}], "position": {"x": 0, "y": 0}}],
    }).workflow
    start = timezone.now() - timedelta(hours=1)
    run = Run.objects.create(tenant=demo, workflow=workflow, version=workflow.versions.get(), status=Status.SUCCESS,
                             started_at=start, ended_at=start + timedelta(minutes=5))
    failed = lambda i: i % 100 == 3  # noqa: E731
    NodeRun.objects.bulk_create([
        NodeRun(run=run, node="train", status=Status.SUCCESS, started_at=start, ended_at=start + timedelta(minutes=5),
                outputs={"auc": [], "map_items": []}),
        *(NodeRun(run=run, node="train", map_index=i, parameters={"account": f"acct-{i:05d}"},
                  status=Status.FAILED if failed(i) else Status.SUCCESS, attempts=1,
                  outputs={} if failed(i) else {"auc": (i * 37 % 100) / 100},
                  started_at=start, ended_at=start + timedelta(seconds=i % 7)) for i in range(ITEMS))])
    return run


def test_items_table_scrolls_filters_sorts_charts_and_retries(page, big_run, shot):
    login(page)
    page.goto(f"/t/demo/workflows/{big_run.workflow_id}?run={big_run.pk}")
    page.wait_for_selector("[data-testid=node-train][data-status=success]")
    select_node(page, "train")
    items = page.get_by_test_id("items-train")
    count = items.get_by_test_id("items-count")
    count.get_by_text("5,000 items").wait_for()
    assert "acct-00000" in items.get_by_test_id("item-row-0").inner_text()
    # Only the rows in view are drawn.
    assert items.locator("[role=row][aria-rowindex]").count() < 60

    # Scroll to the end: the last page is fetched and drawn.
    scroller = items.get_by_test_id("items-scroll")
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    items.get_by_test_id(f"item-row-{ITEMS - 1}").wait_for()
    assert items.locator("[role=row][aria-rowindex]").count() < 60
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight / 2; }")
    items.get_by_test_id(f"item-row-{ITEMS // 2}").wait_for()
    shot(page, "items-table")

    # Sorted by an output, highest first.
    items.get_by_label("Sort items").select_option("-outputs.auc")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    first = items.locator("[role=row][aria-rowindex='1']")
    first.get_by_text("0.99").wait_for()

    # Filters: status, then item value.
    items.get_by_label("Items by status").select_option("failed")
    count.get_by_text("50 items match").wait_for()
    items.get_by_label("Items by status").select_option("")
    items.get_by_label("Item contains").fill("ACCT-0001")
    count.get_by_text("10 items match").wait_for()
    items.get_by_label("Item contains").fill("")
    count.get_by_text("5,000 items").wait_for()
    # A filter changed before the previous one's answer came: that answer (held back here by
    # 1.5 s) does not replace the newer filter's rows when it arrives.
    page.evaluate("""() => { const f = window.fetch; window.fetch = async (url, ...rest) => {
        const r = await f(url, ...rest);
        if (String(url).includes('/items/?') && !String(url).includes('status=')) await new Promise((ok) => setTimeout(ok, 1500));
        return r; }; }""")
    items.get_by_label("Sort items").select_option("map_index")
    items.get_by_label("Items by status").select_option("failed")
    count.get_by_text("50 items match").wait_for()
    page.wait_for_timeout(2500)
    assert "50 items match" in count.inner_text()
    assert "failed" in items.locator("[role=row][aria-rowindex='1']").inner_text()
    items.get_by_label("Items by status").select_option("")
    count.get_by_text("5,000 items").wait_for()

    # The executed notebook of any item: its card opens from its row.
    items.get_by_label("Items by status").select_option("failed")
    items.get_by_test_id("item-row-3").click()
    card = page.get_by_test_id("node-run-train-3")
    assert "train · acct-00003" in card.inner_text()

    # The histogram: bins counted by the server, as many bars as bins.
    histogram = items.get_by_test_id("histogram-train")
    histogram.locator("rect.histogram-bar").first.wait_for()
    assert histogram.locator("rect.histogram-bar").count() == 20
    assert "4,950 items" in histogram.inner_text()
    counted = sum(int(c) for c in histogram.locator("rect.histogram-bar").evaluate_all("bars => bars.map(b => b.dataset.count)"))
    assert counted == 4950
    shot(page, "items-histogram")

    # Retry failed items: only those 50 are queued again, the run runs again.
    items.get_by_role("button", name="Retry 50 failed items").click()
    page.get_by_text("Retrying the 50 failed items of train.").wait_for()
    page.wait_for_selector("[data-testid=node-train][data-status=running]")
    rows = NodeRun.objects.filter(run=big_run, node="train", map_index__isnull=False)
    assert rows.filter(status=Status.SUCCESS).count() == ITEMS - 50
    assert rows.exclude(status=Status.SUCCESS).count() == 50
    assert not rows.filter(status=Status.FAILED).exists()
