"""Alert channels in a real Chromium (issue 14): an admin adds a signed webhook, sends a test
alert and sees what the receiver answered (a receiver on 127.0.0.1 started by the test), sees the
delivery log, then names the channel in a workflow's alert rules in the workflow panel."""
import hashlib
import hmac

import pytest

from alerts.models import Channel
from browser.conftest import login
from tests.alerts.support import Receiver
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "hook-signing-secret-2026"


@pytest.fixture
def receivers():
    made = [Receiver(), Receiver(statuses=[500])]
    yield made
    for r in made:
        r.close()


def test_channels_test_alert_and_rules_in_the_workflow_panel(page, demo, console, shot, receivers):
    ok, broken = receivers
    login(page, "admin")
    page.goto("/t/demo/admin")
    page.get_by_role("link", name="Alerts").click()
    page.get_by_text("No channels yet.").wait_for()

    page.get_by_role("button", name="New channel").click()
    form = page.get_by_test_id("channel-form")
    form.get_by_label("Name").fill("oncall")
    form.get_by_label("URL", exact=True).fill(ok.url)
    form.get_by_role("group", name="Signing secret").get_by_role("button", name="Set").click()
    form.get_by_label("New signing secret").fill(SECRET)
    form.get_by_role("button", name="Create channel").click()
    row = page.get_by_test_id("channel-oncall")
    row.get_by_text("set", exact=True).wait_for()
    assert Channel.objects.get(name="oncall").get_secret() == SECRET

    row.get_by_role("button", name="Send test alert").click()
    page.get_by_test_id("channel-oncall-result").get_by_text("Delivered: the receiver took the test alert.").wait_for()
    body = ok.requests[0]["body"]
    assert ok.requests[0]["headers"]["X-Loom-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    page.get_by_role("button", name="New channel").click()
    form.get_by_label("Name").fill("flaky")
    form.locator("select").select_option(label="Slack")
    form.get_by_label("URL", exact=True).fill(broken.url)
    form.get_by_role("button", name="Create channel").click()
    page.get_by_test_id("channel-flaky").get_by_role("button", name="Send test alert").click()
    page.get_by_test_id("channel-flaky-result").get_by_text("Not delivered: HTTP 500 from the receiver").wait_for()
    log = page.get_by_role("table", name="Deliveries")
    log.get_by_text("delivered", exact=True).wait_for()
    log.get_by_text("failed", exact=True).wait_for()
    shot(page, "admin-channels")

    # The workflow panel: a rule naming the channel, saved with the workflow's next version.
    churn = Workflow.objects.get(tenant__slug="demo")
    page.goto(f"/t/demo/workflows/{churn.pk}")
    page.get_by_role("tab", name="Workflow").click()
    page.get_by_role("button", name="Add alert rule").click()
    rule = page.get_by_test_id("alert-rule-0")
    assert rule.get_by_label("Channel of alert rule 1").input_value() == "flaky"  # the first channel, by name
    rule.get_by_label("Channel of alert rule 1").fill("oncall")
    rule.get_by_label("recovery (first success after a failure)").check()
    rule.get_by_label("slow run").check()
    rule.get_by_label("Seconds of alert rule 1").fill("900")
    rule.get_by_label("Seconds of alert rule 1").blur()
    shot(page, "workflow-alert-rules")
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-testid=saved]")
    churn.refresh_from_db()
    graph = churn.versions.get(number=churn.latest_version).graph
    assert graph["alerts"] == [{"channel": "oncall", "on": ["failure", "recovery", "duration"], "duration_s": 900}]
    page.goto("/t/demo/admin/channels")
    page.get_by_test_id("channel-oncall").get_by_text(churn.name).wait_for()  # "used by"
