from django.db.models import F, QuerySet

from alerts.models import Delivery
from workflows.graph import alert_uses
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
