"""What each tenant used over a period, for platform admins: one aggregate query per measure
over all tenants (never a query per tenant), plus the artifacts each tenant keeps on disk now."""
from datetime import datetime

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum

from runs.limits import tenant_artifacts_usage
from runs.models import NodeRun, Run, Status
from tenancy.models import Tenant


def tenants_usage(*, since: datetime) -> list[dict]:
    """Per tenant (every tenant, active or not): runs created since `since` and how many of them
    failed, node-hours of the notebook executions that ended since then, and artifact bytes now."""
    runs = {row["tenant"]: row for row in Run.objects.filter(created_at__gte=since).values("tenant").annotate(
        runs=Count("id"), failed=Count("id", filter=Q(status=Status.FAILED)))}
    # Executions only: a fanned-out node's summary row spans its items and would count them twice.
    summary = NodeRun.objects.filter(run=OuterRef("run"), node=OuterRef("node"), map_index__isnull=False)
    executions = NodeRun.objects.filter(ended_at__gte=since, started_at__isnull=False).exclude(
        Q(map_index__isnull=True) & Exists(summary))
    took = {row["run__tenant"]: row["took"] for row in executions.values("run__tenant").annotate(
        took=Sum(ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())))}
    out = []
    for tenant in Tenant.objects.all():
        row, spent = runs.get(tenant.pk, {}), took.get(tenant.pk)
        out.append({"tenant": tenant.slug, "name": tenant.name, "is_active": tenant.is_active,
                    "runs": row.get("runs", 0), "failed_runs": row.get("failed", 0),
                    "node_hours": round(spent.total_seconds() / 3600, 3) if spent else 0.0,
                    "artifacts_bytes": tenant_artifacts_usage(tenant=tenant)})
    return out
