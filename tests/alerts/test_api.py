"""Channels, alert rules and deliveries through the API, with real receivers on 127.0.0.1: an
HTTP server (webhook, Slack) and an SMTP server (email, through Django's SMTP backend)."""
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Delivery
from alerts.services import deliveries_create, delivery_attempt
from audit.models import AuditEntry
from runs.models import NodeRun, Run, Status
from workflows.models import WorkflowVersion

SECRET = "s3cret-signing-key"


@pytest.fixture
def channel(admin_api, tenant):
    def make(**data) -> dict:
        response = admin_api.post(f"/api/tenants/{tenant.slug}/channels/", data, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def alerting(nb, workflow):
    """A workflow whose one node fails (or not), with `alerts` rules; returns its id."""
    def make(alerts: list[dict]) -> int:
        nb("work.ipynb", "fail = False", "if fail:\n    raise ValueError('bad input: row 7')")
        return workflow([{"id": "load", "notebook": "work.ipynb"}], alerts=alerts)

    return make


def finished_run(workflow_id: int, status: str, *, seconds: float = 5, **extra) -> Run:
    """A run as an engine leaves it: finished, its node failed with a two-line error (or succeeded)."""
    version = WorkflowVersion.objects.filter(workflow_id=workflow_id).order_by("-number").first()
    end = timezone.now()
    run = Run.objects.create(tenant=version.workflow.tenant, workflow_id=workflow_id, version=version, status=status,
                             started_at=end - timedelta(seconds=seconds), ended_at=end, **extra)
    error = {"message": "ValueError: bad input: row 7\nTraceback follows"} if status == Status.FAILED else None
    NodeRun.objects.create(run=run, node="load", status=status, error=error)
    return run


def test_admins_manage_channels_whose_secret_is_write_only_and_audited(admin_api, api, tenant, channel):
    base = f"/api/tenants/{tenant.slug}/channels/"
    made = channel(name="ops", kind="webhook", url="http://127.0.0.1:9/hook", secret=SECRET)
    assert made["has_secret"] is True and "secret" not in made and made["used_by"] == []
    assert api.get(base).status_code == 403  # editors do not see where alerts go

    bad = admin_api.post(base, {"name": "mail", "kind": "email"}, format="json")
    assert bad.status_code == 400 and "address" in bad.json(), bad.content
    assert admin_api.post(base, {"name": "ops", "kind": "slack", "url": "http://x.test/"}, format="json").status_code == 400

    changed = admin_api.patch(f"{base}{made['id']}/", {"url": "http://127.0.0.1:9/other", "secret": "another-secret"}, format="json")
    assert changed.status_code == 200 and changed.json()["url"].endswith("/other")
    assert admin_api.delete(f"{base}{made['id']}/").status_code == 204

    entries = AuditEntry.objects.filter(object_type="channel").order_by("id")
    assert [e.action for e in entries] == ["channel.created", "channel.changed", "channel.deleted"]
    assert entries[0].after["secret"] == "set" and entries[1].after == {"url": "http://127.0.0.1:9/other", "secret": "replaced"}
    assert not any(s in json.dumps([e.before, e.after]) for e in entries for s in (SECRET, "another-secret"))


def test_test_alert_is_signed_and_shows_what_the_receiver_said(admin_api, tenant, channel, receiver):
    ok, broken = receiver(), receiver(statuses=[500])
    signed = channel(name="ops", kind="webhook", url=ok.url, secret=SECRET)
    answer = admin_api.post(f"/api/tenants/{tenant.slug}/channels/{signed['id']}/test/")
    assert answer.status_code == 200 and answer.json()["status"] == "delivered", answer.content
    request = ok.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Loom-Signature"] == expected and request["headers"]["X-Loom-Event"] == "test"
    assert ok.json()["event"] == "test" and SECRET not in request["body"].decode()

    failing = channel(name="broken", kind="webhook", url=broken.url)
    answer = admin_api.post(f"/api/tenants/{tenant.slug}/channels/{failing['id']}/test/").json()
    assert (answer["status"], answer["attempts"], answer["last_error"]) == ("failed", 1, "HTTP 500 from the receiver")
    assert "X-Loom-Signature" not in broken.requests[0]["headers"]  # no secret, no signature


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_alerts_once_and_a_500_is_retried(admin_api, tenant, channel, alerting, receiver, settings):
    hook = receiver(statuses=[500])
    channel(name="ops", kind="webhook", url=hook.url, secret=SECRET)
    wid = alerting([{"channel": "ops", "on": ["failure"]}])
    run = finished_run(wid, Status.FAILED, logical_date=timezone.now().replace(microsecond=0))
    settings.LOOM_ALERT_RETRY_S = 0

    made = deliveries_create(run=run)
    assert deliveries_create(run=run) == [] and len(made) == 1  # once per run outcome
    delivery_attempt(delivery_id=made[0].pk)
    first = Delivery.objects.get()
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "HTTP 500 from the receiver")
    assert first.next_attempt_at is not None
    delivery_attempt(delivery_id=first.pk)
    delivery_attempt(delivery_id=first.pk)  # a duplicate message does nothing
    done = Delivery.objects.get()
    assert (done.status, done.attempts, done.last_error) == ("delivered", 2, "")

    assert len(hook.requests) == 2 and hook.requests[0]["body"] == hook.requests[1]["body"]
    body, headers = hook.json(), hook.requests[1]["headers"]
    assert headers["X-Loom-Signature"] == "sha256=" + hmac.new(SECRET.encode(), hook.requests[1]["body"], hashlib.sha256).hexdigest()
    assert body["event"] == "failure" and body["workflow"]["id"] == wid and body["version"] == 1
    assert body["run"]["logical_date"] == run.logical_date.isoformat() and body["run"]["status"] == "failed"
    assert body["failed_nodes"] == [{"node": "load", "status": "failed", "error": "ValueError: bad input: row 7"}]
    assert body["run"]["url"] == f"{settings.LOOM_PUBLIC_URL}/t/{tenant.slug}/workflows/{wid}?run={run.pk}"
    assert SECRET not in hook.requests[1]["body"].decode()

    log = admin_api.get(f"/api/tenants/{tenant.slug}/deliveries/?channel=ops&event=failure").json()
    assert [(d["run"], d["status"], d["attempts"]) for d in log["results"]] == [(run.pk, "delivered", 2)]
    assert admin_api.get(f"/api/tenants/{tenant.slug}/deliveries/?event=success").json()["results"] == []


def test_a_repaired_run_that_fails_again_alerts_again(db, channel, alerting, receiver):
    channel(name="ops", kind="webhook", url=receiver().url)
    run = finished_run(alerting([{"channel": "ops", "on": ["failure"]}]), Status.FAILED)
    assert len(deliveries_create(run=run)) == 1
    # Repaired, it ran again and failed again: a new end, a new alert; its repeated signal, none.
    Run.objects.filter(pk=run.pk).update(ended_at=run.ended_at + timedelta(minutes=3))
    run.refresh_from_db()
    assert len(deliveries_create(run=run)) == 1 and deliveries_create(run=run) == []
    assert Delivery.objects.filter(run=run, event="failure").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_refuses_is_not_retried_and_attempts_run_out(channel, alerting, receiver, settings):
    refusing, down = receiver(statuses=[404]), receiver(statuses=[503, 503, 503])
    channel(name="refusing", kind="webhook", url=refusing.url)
    channel(name="down", kind="slack", url=down.url)
    wid = alerting([{"channel": "refusing", "on": ["failure"]}, {"channel": "down", "on": ["failure"]}])
    settings.LOOM_ALERT_RETRY_S, settings.LOOM_ALERT_ATTEMPTS = 0, 3
    for delivery in deliveries_create(run=finished_run(wid, Status.FAILED)):
        for _ in range(4):
            delivery_attempt(delivery_id=delivery.pk)
    found = {d.channel.name: (d.status, d.attempts) for d in Delivery.objects.select_related("channel")}
    assert found == {"refusing": ("failed", 1), "down": ("failed", 3)}


@pytest.mark.django_db(transaction=True)
def test_slack_gets_a_text_and_email_goes_through_smtp(channel, alerting, receiver, mailbox):
    slack = receiver()
    channel(name="team", kind="slack", url=slack.url)
    channel(name="oncall", kind="email", address="oncall@example.com")
    wid = alerting([{"channel": "team", "on": ["failure"]}, {"channel": "oncall", "on": ["failure", "success"]}])
    run = finished_run(wid, Status.FAILED)
    for delivery in deliveries_create(run=run):
        delivery_attempt(delivery_id=delivery.pk)

    text = slack.json()["text"]
    assert list(slack.json()) == ["text"]
    assert f"run {run.pk}" in text and "failed" in text and "- load: ValueError: bad input: row 7" in text
    assert text.endswith(f"?run={run.pk}")
    [(to, mail)] = mailbox.messages
    assert to == ["oncall@example.com"] and f"run {run.pk}" in mail["Subject"]
    assert "ValueError: bad input: row 7" in mail.get_payload()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db(transaction=True)
def test_success_recovery_and_duration_events(channel, alerting, receiver):
    hook = receiver()
    channel(name="ops", kind="webhook", url=hook.url)
    wid = alerting([{"channel": "ops", "on": ["recovery", "duration"], "duration_s": 60}])
    events = lambda run: sorted(d.event for d in deliveries_create(run=run))  # noqa: E731
    assert events(finished_run(wid, Status.SUCCESS)) == []
    assert events(finished_run(wid, Status.FAILED, seconds=120)) == ["duration"]
    assert events(finished_run(wid, Status.CANCELLED)) == []  # a cancelled run is no outcome for recovery
    assert events(finished_run(wid, Status.SUCCESS)) == ["recovery"]
    assert events(finished_run(wid, Status.SUCCESS)) == []  # only the first success after a failure


def test_rules_name_existing_channels_and_known_events(api, admin_api, tenant, channel, nb):
    nb("work.ipynb", None, "x = 1")
    graph = {"name": "nightly", "nodes": [{"id": "load", "notebook": "work.ipynb"}],
             "alerts": [{"channel": "ops", "on": ["failure", "duration"]}]}
    saved = api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json")
    assert saved.status_code == 201
    problems = {e["field"]: e["message"] for e in saved.json()["errors"]}
    assert "No notification channel named 'ops' in this tenant" in problems["alerts[0].channel"]
    assert "give duration_s" in problems["alerts[0].duration_s"]

    ops = channel(name="ops", kind="email", address="ops@example.com")
    detail = api.get(f"/api/tenants/{tenant.slug}/workflows/{saved.json()['id']}/").json()
    assert [e["field"] for e in detail["errors"]] == ["alerts[0].duration_s"]  # the channel exists now
    assert detail["graph"]["alerts"] == [{"channel": "ops", "on": ["failure", "duration"], "duration_s": None}]

    unknown = api.post(f"/api/tenants/{tenant.slug}/workflows/", {**graph, "alerts": [{"channel": "ops", "on": ["boom"]}]}, format="json")
    assert unknown.status_code == 400 and "boom" in unknown.content.decode()

    refused = admin_api.delete(f"/api/tenants/{tenant.slug}/channels/{ops['id']}/")
    assert refused.status_code == 409 and "nightly" in refused.json()["detail"]
    assert admin_api.get(f"/api/tenants/{tenant.slug}/channels/{ops['id']}/").json()["used_by"] == ["nightly"]


def test_rotating_the_encryption_key_re_encrypts_channel_secrets(db, tenant, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from alerts.models import Channel
    from alerts.services import channel_save
    from tenancy import crypto

    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.LOOM_ENCRYPTION_KEY = old
    crypto.keys_changed()
    try:
        channel_save(tenant=tenant, data={"name": "ops", "kind": "webhook", "url": "http://x.test/", "secret": SECRET})
        settings.LOOM_ENCRYPTION_KEY = f"{new},{old}"
        crypto.keys_changed()
        out = StringIO()
        call_command("rotate_encryption_key", stdout=out)
        assert "and 1 other secret(s)" in out.getvalue()
        settings.LOOM_ENCRYPTION_KEY = new
        crypto.keys_changed()
        assert Channel.objects.get().get_secret() == SECRET
    finally:
        crypto.keys_changed()
