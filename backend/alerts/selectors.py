from datetime import timedelta

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from alerts.messages import run_duration_s
from alerts.models import Delivery
from runs.models import ACTIVE, Run
from workflows.validation import alert_uses
from workflows.models import WorkflowVersion


def delivery_list(*, tenant, filters: dict) -> QuerySet[Delivery]:
    """The tenant's deliveries, newest first, narrowed by `filters` (run, workflow, channel name, event, status)."""
    found = Delivery.objects.filter(tenant=tenant).select_related("channel", "run")
    lookups = {"run": "run_id", "workflow": "run__workflow_id", "channel": "channel__name", "event": "event", "status": "status"}
    for name, lookup in lookups.items():
        if filters.get(name) not in (None, ""):
            found = found.filter(**{lookup: filters[name]})
    return found


def channel_users_of(*, tenant_id: int, names) -> dict[str, list[str]]:
    """{channel name: the workflows whose latest version has an alert rule naming it}, for `names`."""
    wanted, used = set(names), {}
    latest = WorkflowVersion.objects.filter(workflow__tenant_id=tenant_id, number=F("workflow__latest_version"))
    for version in latest.select_related("workflow").order_by("workflow__name", "workflow__id"):
        for name in sorted({n for _, n in alert_uses(version.graph) if isinstance(n, str)} & wanted):
            used.setdefault(name, []).append(version.workflow.name)
    return used


def _duration_rules(rules) -> list[dict]:
    return [r for r in rules if isinstance(r, dict) and "duration" in (r.get("on") or ())
            and isinstance(r.get("duration_s"), int) and r["duration_s"] > 0] if isinstance(rules, list) else []


def runs_past_duration(*, now) -> list[tuple[Run, list[dict]]]:
    """The runs not ended yet (queued or running, on either engine) that have taken longer than
    duration rules of their version, each with those rules. Two queries however many runs: the
    rules of the versions that active runs pin, then the active runs older than the smallest limit."""
    active = Run.objects.filter(status__in=ACTIVE)
    limits = {}
    pinned = WorkflowVersion.objects.filter(pk__in=active.values("version_id"), graph__has_key="alerts")
    for pk, rules in pinned.values_list("pk", "graph__alerts"):
        if rules := _duration_rules(rules):
            limits[pk] = rules
    if not limits:
        return []
    smallest = min(r["duration_s"] for rules in limits.values() for r in rules)
    overdue = (active.filter(version_id__in=limits).alias(began=Coalesce("started_at", "created_at"))
               .filter(began__lt=now - timedelta(seconds=smallest))
               .only("tenant_id", "version_id", "created_at", "started_at", "ended_at").order_by("pk"))
    found = []
    for run in overdue:
        elapsed = run_duration_s(run, now=now)
        if rules := [r for r in limits[run.version_id] if elapsed > r["duration_s"]]:
            found.append((run, rules))
    return found
