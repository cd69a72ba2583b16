"""Issue 15 in the browser: a node's log while it runs, the run's timeline, two runs compared
from the run history (table of differences, a node's notebook diff), and the workspace's runs page."""
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from helpers import notebook_bytes, upload
from tests.browser.conftest import login
from tests.runs.support import wait_run

# Runs n * 6 s: the second run (n=5) still runs while a loaded machine logs in and opens it.
SLOW = "print(f'counting to {n}', flush=True)\nimport time\ntime.sleep(n * 6)\ntotal = n * 2\nprint('finished')"


def _setup():
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="editor"))
    assert upload(api, "demo", "count.ipynb", notebook_bytes("n = 1", SLOW)).status_code == 201
    graph = {"name": "counting", "parameters": [{"name": "n", "type": "int", "default": 1}],
             "nodes": [{"id": "count", "notebook": "count.ipynb", "outputs": ["total"]}], "edges": []}
    wid = api.post("/api/tenants/demo/workflows/", graph, format="json").json()["id"]
    return api, wid


def test_the_log_is_live_and_two_runs_compare(page, demo, worker, shot):
    api, wid = _setup()
    first = api.post(f"/api/tenants/demo/workflows/{wid}/runs/", {"parameters": {"n": 1}}, format="json").json()
    assert wait_run(api, "demo", first["id"], timeout=120)["status"] == "success"
    second = api.post(f"/api/tenants/demo/workflows/{wid}/runs/", {"parameters": {"n": 5}}, format="json").json()

    login(page)
    page.goto(f"/t/demo/workflows/{wid}")
    page.wait_for_selector("[data-testid=node-count]")
    page.get_by_role("tab", name="Runs").click()
    page.locator(".run-history-item", has_text=f"#{second['id']}").click()
    page.locator(".node-run-list").get_by_role("button", name="count").click()
    log = page.locator("[data-testid=log-count]")
    log.get_by_text("counting to 5").wait_for(timeout=60_000)
    # Printed, and the node still sleeps: the log is there before it ends.
    assert "(live)" in log.locator("summary").inner_text() and "finished" not in log.inner_text()
    shot(page, "live-log")
    log.get_by_text("finished").wait_for(timeout=60_000)
    assert log.locator("summary").inner_text() == "Log"

    page.get_by_role("tab", name="Runs").click()
    timeline = page.locator("[data-testid=run-timeline]")
    timeline.locator("[data-node=count]").wait_for()
    history = page.locator("[aria-label='Run history']")
    history.get_by_text("n=5").wait_for()  # the parameters that differ from the defaults
    assert "manual by editor" in history.inner_text()
    shot(page, "run-history-and-timeline")
    page.get_by_role("button", name=f"Compare run #{first['id']} with run #{second['id']}").click()
    dialog = page.locator("[data-testid=compare-dialog]")
    params = dialog.get_by_role("table", name="Parameters that differ")
    params.get_by_text("n", exact=True).wait_for()
    assert params.locator("tbody tr").inner_text().split("\t")[1:] == ["1", "5"]
    row = dialog.locator("[data-testid=compare-count]")
    assert "total: 2 → 10" in row.inner_text()
    row.get_by_role("button", name="Notebook diff").click()
    frame = dialog.frame_locator("iframe")
    frame.locator(".cell.modified").first.wait_for()
    assert frame.locator("pre.line.added", has_text="n = 5").count() == 1
    assert frame.locator(".outputs .after", has_text="counting to 5").count() == 1
    shot(page, "compare-runs")


def test_the_runs_page_filters_and_compares(page, demo, worker, shot):
    api, wid = _setup()
    ids = []
    for n in (1, 2):
        run = api.post(f"/api/tenants/demo/workflows/{wid}/runs/", {"parameters": {"n": n}}, format="json").json()
        assert wait_run(api, "demo", run["id"], timeout=120)["status"] == "success"
        ids.append(run["id"])
    other = api.post(f"/api/tenants/demo/workflows/{wid}/runs/", {"parameters": {"n": "x"}}, format="json")
    assert other.status_code == 400  # (a refused start leaves no run)
    failed = api.post(f"/api/tenants/demo/runs/{ids[0]}/cancel/")  # finished: cancelling changes nothing
    assert failed.json()["status"] == "success"

    login(page)
    page.goto("/t/demo")
    page.get_by_role("link", name="Runs").click()
    table = page.get_by_role("table", name="Runs")
    table.locator(f"[data-testid=run-row-{ids[1]}]").wait_for()
    assert "n=2" in table.locator(f"[data-testid=run-row-{ids[1]}]").inner_text()
    page.get_by_label("Workflow").select_option(label="counting")
    page.get_by_label("Status").select_option("success")
    page.get_by_label("Trigger").select_option("manual")
    page.wait_for_function("document.querySelectorAll('.runs-table tbody tr').length === 2")
    page.get_by_label("Trigger").select_option("schedule")
    page.get_by_text("No run matches.").wait_for()
    # Filters changed faster than the server answers: only the newest filter's answer is shown,
    # though the earlier one (held back here by 1.5 s) arrives after it.
    page.evaluate("""() => { const f = window.fetch; window.fetch = async (url, ...rest) => {
        const r = await f(url, ...rest);
        if (String(url).includes('/runs/?') && String(url).includes('trigger=manual')) await new Promise((ok) => setTimeout(ok, 1500));
        return r; }; }""")
    page.get_by_label("Trigger").select_option("manual")
    page.get_by_label("Trigger").select_option("schedule")
    page.wait_for_timeout(2500)
    assert page.get_by_text("No run matches.").is_visible()
    assert page.locator(".runs-table tbody tr").count() == 0
    page.get_by_label("Trigger").select_option("")
    table.locator(f"[data-testid=run-row-{ids[0]}]").wait_for()
    shot(page, "runs-page")
    page.get_by_label(f"Pick run #{ids[0]}").check()
    page.get_by_label(f"Pick run #{ids[1]}").check()
    page.get_by_role("button", name=f"Compare #{ids[0]} → #{ids[1]}").click()
    dialog = page.locator("[data-testid=compare-dialog]")
    dialog.locator("[data-testid=compare-count]").get_by_text("total").wait_for()
    assert "2 → 4" in dialog.locator("[data-testid=compare-count]").inner_text()
