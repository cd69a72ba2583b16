"""Channels (create, change, delete, test) and deliveries (made when a run finishes, attempted
by the `alerts.deliver` Celery task, retried with backoff while the receiver fails)."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from alerts.messages import alert_message, run_duration_s, test_message
from alerts.models import Channel, ChannelKind, Delivery, DeliveryStatus, Event
from alerts.selectors import channel_users_of, runs_past_duration
from alerts.senders import Refused, Retry, alert_send
from audit.services import Action, record
from loom.errors import Conflict, FieldsInvalid
from runs.engines import task_send
from runs.models import Run, Status
from tenancy.models import Tenant

log = logging.getLogger(__name__)
DELIVER = "alerts.deliver"  # the Celery task (alerts.tasks)
SECRET_MIN_LENGTH = 8


# --- channels -------------------------------------------------------------------------------

_SHOWN = ("name", "kind", "url", "address")  # what the audit log shows of a channel (never its secret)


def _shown(channel: Channel) -> dict:
    return {f: getattr(channel, f) for f in _SHOWN}


def channel_save(*, tenant: Tenant, channel: Channel | None = None, data: dict) -> Channel:
    """Create or change a channel (recorded in the audit log). `secret`: absent keeps the stored
    one, "" clears it."""
    channel = channel or Channel(tenant=tenant)
    created, before, had_secret = channel.pk is None, _shown(channel), channel.has_secret
    for field in ("name", "kind", "url", "address"):
        if field in data:
            setattr(channel, field, data[field])
    errors = {}
    if channel.kind in (ChannelKind.WEBHOOK, ChannelKind.SLACK) and not channel.url:
        errors["url"] = [f"A {channel.kind} channel needs the url alerts are POSTed to."]
    if channel.kind == ChannelKind.EMAIL and not channel.address:
        errors["address"] = ["An email channel needs the address alerts are mailed to."]
    # Only webhooks are signed: another kind keeps no secret.
    secret = data.get("secret") if channel.kind == ChannelKind.WEBHOOK else ("" if had_secret else None)
    if secret and len(secret) < SECRET_MIN_LENGTH:
        errors["secret"] = [f"Use at least {SECRET_MIN_LENGTH} characters (or \"\" to clear it)."]
    if Channel.objects.filter(tenant=tenant, name=channel.name).exclude(pk=channel.pk).exists():
        errors["name"] = [f"A channel '{channel.name}' already exists."]
    if errors:
        raise FieldsInvalid(errors)
    if secret is not None:
        channel.set_secret(secret)
    # The fields another kind uses are cleared, so that no stale address or url lingers.
    if channel.kind == ChannelKind.EMAIL:
        channel.url = ""
    else:
        channel.address = ""
    channel.full_clean()
    with transaction.atomic():
        channel.save()
        after = _shown(channel)
        if secret is not None:
            after["secret"] = "set" if secret and not had_secret else "replaced" if secret else "cleared" if had_secret else None
            after = {k: v for k, v in after.items() if v is not None}
        if created:
            record(Action.CHANNEL_CREATED, tenant=tenant, obj=channel, after=after, secrets=[secret or ""])
        else:
            changed = {k: v for k, v in after.items() if k == "secret" or before.get(k) != v}
            if changed:
                record(Action.CHANNEL_CHANGED, tenant=tenant, obj=channel, before={k: before[k] for k in changed if k in before},
                       after=changed, secrets=[secret or ""])
    return channel


def channel_delete(*, channel: Channel) -> None:
    """Refused (409, naming them) while workflows' latest versions have rules naming the channel."""
    users = channel_users_of(tenant_id=channel.tenant_id, names=[channel.name]).get(channel.name)
    if users:
        raise Conflict(f"Channel '{channel.name}' is named by the alert rules of: {', '.join(users)}. "
                       "Remove those rules first.")
    with transaction.atomic():
        record(Action.CHANNEL_DELETED, tenant=channel.tenant, obj=channel, before=_shown(channel))
        channel.delete()


def channel_test(*, channel: Channel) -> Delivery:
    """Send a test alert now (one attempt, no retry); the delivery says how it went."""
    delivery = Delivery.objects.create(tenant_id=channel.tenant_id, channel=channel, event=Event.TEST,
                                       status=DeliveryStatus.SENDING, attempts=1)
    _attempt(delivery, channel, test_message(channel=channel), retry=False)
    return delivery


# --- deliveries -----------------------------------------------------------------------------

def run_events(*, run: Run, rule: dict) -> set[str]:
    """The events of a rule that a finished run gives."""
    happened = set()
    if run.status == Status.SUCCESS:
        happened.add(Event.SUCCESS)
        before = (Run.objects.filter(workflow_id=run.workflow_id, pk__lt=run.pk, ended_at__isnull=False)
                  .exclude(status=Status.CANCELLED).order_by("-pk").values_list("status", flat=True).first())
        if before == Status.FAILED:
            happened.add(Event.RECOVERY)
    elif run.status == Status.FAILED:
        happened.add(Event.FAILURE)
    duration = run_duration_s(run)
    if rule.get("duration_s") and duration is not None and duration > rule["duration_s"]:
        happened.add(Event.DURATION)
    return happened & set(rule.get("on") or ())


def deliveries_create(*, run: Run) -> list[Delivery]:
    """The deliveries a finished run's alert rules (its version's graph) call for, each made once per
    end of the run (a repaired run that fails again alerts again; `duration` once per run) whatever
    number of times this is called; their first attempt is sent to the workers."""
    rules = run.version.graph.get("alerts") or []
    channels = {c.name: c for c in Channel.objects.filter(tenant_id=run.tenant_id, name__in=[r.get("channel") for r in rules])}
    wanted = []
    for rule in rules:
        channel = channels.get(rule.get("channel"))
        if channel is None:
            log.warning("run %s: alert rule names channel %r, which the tenant does not have", run.pk, rule.get("channel"))
            continue
        wanted += [(run, channel, event) for event in sorted(run_events(run=run, rule=rule))]
    return _deliveries_make(wanted)


def duration_deliveries_create(*, now=None) -> list[Delivery]:
    """The `duration` deliveries of runs still going past their rules' duration_s (Celery beat asks
    every LOOM_ALERT_DURATION_CHECK_S): made once per run and channel, so that a run that ends
    later, or a second beat, does not alert for its duration again (the constraint decides a race)."""
    overdue = runs_past_duration(now=now or timezone.now())
    if not overdue:
        return []
    done = set(Delivery.objects.filter(event=Event.DURATION, run_id__in=[run.pk for run, _ in overdue])
               .values_list("run_id", "channel_id"))
    channels = {(c.tenant_id, c.name): c for c in Channel.objects.filter(
        tenant_id__in={run.tenant_id for run, _ in overdue}, name__in={r.get("channel") for _, rules in overdue for r in rules})}
    wanted = []
    for run, rules in overdue:
        for rule in rules:
            channel = channels.get((run.tenant_id, rule.get("channel")))
            if channel is not None and (run.pk, channel.pk) not in done:
                done.add((run.pk, channel.pk))  # two rules naming one channel: one alert
                wanted.append((run, channel, Event.DURATION))
    return _deliveries_make(wanted)


def _deliveries_make(wanted: list) -> list[Delivery]:
    """A delivery for each (run, channel, event) that has none yet (the constraints say), tied to the
    run's end (None: it had not ended); their first attempts are sent to the workers."""
    made = []
    for run, channel, event in wanted:
        try:
            with transaction.atomic():
                made.append(Delivery.objects.create(tenant_id=run.tenant_id, run=run, channel=channel, event=event,
                                                    run_ended_at=run.ended_at, next_attempt_at=timezone.now()))
        except IntegrityError:
            continue  # delivered (or under way) already
    for delivery in made:
        _send(delivery.pk)
    return made


def _send(delivery_id: int, countdown: float = 0) -> None:
    try:
        task_send(DELIVER, delivery_id, countdown=countdown)
    except Exception as e:  # noqa: BLE001 - kombu and redis raise many types; deliveries_resend sends it later
        log.warning("delivery %s: the broker did not take its message (%s)", delivery_id, e)


def delivery_attempt(*, delivery_id: int) -> None:
    """One attempt of a pending delivery that is due (a duplicate or early message does nothing)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + timedelta(seconds=1)) \
        .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return
    delivery = Delivery.objects.select_related("channel__tenant", "run__workflow", "run__version", "run__tenant").get(pk=delivery_id)
    try:
        rule = next((r for r in delivery.run.version.graph.get("alerts") or [] if r.get("channel") == delivery.channel.name
                     and delivery.event in (r.get("on") or ())), {})
        message = alert_message(run=delivery.run, event=delivery.event, duration_s=rule.get("duration_s"))
    except Exception as e:  # noqa: BLE001 - as in _attempt: never left "sending"
        log.exception("delivery %s: its message could not be made", delivery.pk)
        _update(delivery, status=DeliveryStatus.FAILED, last_error=f"{type(e).__name__}: {e}"[:2000], next_attempt_at=None)
        return
    _attempt(delivery, delivery.channel, message, retry=True)


def retry_delay_s(attempts: int) -> float:
    """Backoff after the `attempts`-th failed attempt: LOOM_ALERT_RETRY_S doubled each time, at most an hour."""
    return min(settings.LOOM_ALERT_RETRY_S * 2 ** (attempts - 1), 3600)


def _attempt(delivery: Delivery, channel: Channel, message: dict, *, retry: bool) -> None:
    try:
        alert_send(channel, message, delivery_id=delivery.pk)
    except Retry as e:
        if retry and delivery.attempts < settings.LOOM_ALERT_ATTEMPTS:
            delay = retry_delay_s(delivery.attempts)
            _update(delivery, status=DeliveryStatus.PENDING, last_error=str(e)[:2000],
                    next_attempt_at=timezone.now() + timedelta(seconds=delay))
            _send(delivery.pk, countdown=delay)
        else:
            _update(delivery, status=DeliveryStatus.FAILED, last_error=str(e)[:2000], next_attempt_at=None)
    except Refused as e:
        _update(delivery, status=DeliveryStatus.FAILED, last_error=str(e)[:2000], next_attempt_at=None)
    except Exception as e:  # noqa: BLE001 - a bug or a bad channel must not leave it "sending"
        log.exception("delivery %s failed", delivery.pk)
        _update(delivery, status=DeliveryStatus.FAILED, last_error=f"{type(e).__name__}: {e}"[:2000], next_attempt_at=None)
    else:
        _update(delivery, status=DeliveryStatus.DELIVERED, last_error="", next_attempt_at=None, delivered_at=timezone.now())


def _update(delivery: Delivery, **fields) -> None:
    for name, value in fields.items():
        setattr(delivery, name, value)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def deliveries_resend(*, older_than_s: float = 60) -> int:
    """Send again the messages of pending deliveries overdue by `older_than_s` (a message the
    broker lost, a worker that stopped); returns how many."""
    due = list(Delivery.objects.filter(status=DeliveryStatus.PENDING,
                                       next_attempt_at__lte=timezone.now() - timedelta(seconds=older_than_s))
               .values_list("pk", flat=True)[:500])
    for pk in due:
        _send(pk)
    return len(due)
