"""The workflow panel's deployment: a schedule that is not deployed says so; deploy to the local
engine, pause and resume, the cron in words and the next runs; a backfill with its dry-run
preview and progress, then the run calendar by logical date."""
import subprocess
import sys

import pytest

from browser.conftest import login
from runs.models import Run
from tenancy.models import Tenant
from tests.runs.support import REPO
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def beat(worker, tmp_path):
    """The scheduler as `make run` starts it: Celery beat sending ticks to the worker's queue."""
    log = open(tmp_path / "beat.log", "wb")
    process = subprocess.Popen([sys.executable, "manage.py", "loom_scheduler", "-l", "WARNING"], cwd=REPO,
                               env={**worker.env, "LOOM_SCHEDULER_TICK_S": "1"}, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    process.wait(15)


def test_deploy_pause_backfill_and_the_run_calendar(page, demo, worker, beat, shot):
    version = workflow_create(tenant=Tenant.objects.get(slug="demo"), graph={
        "name": "Nightly ingest", "schedule": "0 2 * * *", "start_date": "2026-11-01",
        "nodes": [{"id": "ingest", "notebook": "ingest.ipynb", "outputs": ["row_count"]}]})
    login(page)
    page.goto(f"/t/demo/workflows/{version.workflow_id}")
    page.get_by_role("tab", name="Workflow").click()
    assert "does not run until you deploy" in page.get_by_test_id("not-deployed").inner_text()
    shot(page, "schedule-not-deployed")

    page.get_by_test_id("deploy-engine").select_option("local")
    page.get_by_test_id("deploy").click()
    state = page.get_by_test_id("deployment-state")
    state.filter(has_text="active").wait_for()
    assert "At 02:00 (UTC)" in page.get_by_test_id("schedule-text").inner_text()
    assert page.get_by_test_id("next-runs").locator("li").count() == 5
    shot(page, "schedule-deployed")
    page.get_by_test_id("pause-toggle").click()
    state.filter(has_text="paused").wait_for()
    assert page.get_by_test_id("next-runs").count() == 0
    page.get_by_test_id("pause-toggle").click()
    state.filter(has_text="active").wait_for()

    page.get_by_test_id("backfill-open").click()
    page.get_by_test_id("backfill-from").fill("2026-11-10")
    page.get_by_test_id("backfill-to").fill("2026-11-11")
    page.get_by_test_id("backfill-preview").click()
    dates = page.get_by_test_id("backfill-dates")
    dates.filter(has_text="2 logical dates").wait_for()
    assert "2026-11-10 02:00" in dates.inner_text() and "2026-11-11 02:00" in dates.inner_text()
    shot(page, "backfill-preview")
    page.get_by_test_id("backfill-start").click()
    page.get_by_test_id("backfill-status").filter(has_text="success").wait_for(timeout=180_000)
    shot(page, "backfill-done")
    page.get_by_role("button", name="Close").last.click()

    calendar = page.get_by_test_id("run-calendar")
    calendar.locator(".calendar-cell[data-status=success]").nth(1).wait_for()
    # The two backfilled dates, and the newest slot of the schedule, which the scheduler started on deploy.
    newest = Run.objects.get(workflow_id=version.workflow_id, trigger="schedule").logical_date.date().isoformat()
    assert calendar.locator(".calendar-day").all_inner_texts() == ["2026-11-10", "2026-11-11", newest]
    calendar.locator(".calendar-cell").first.click()
    calendar.locator(".calendar-cell.active").wait_for()
    shot(page, "run-calendar")
    page.get_by_role("tab", name="Runs").click()
    assert "backfill · logical date 2026-11-10 02:00 · data 2026-11-09 02:00 → 2026-11-10 02:00 UTC" in \
        page.get_by_test_id("run-dates").inner_text()
