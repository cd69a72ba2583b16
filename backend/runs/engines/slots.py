"""The local engine's slots: how many notebooks of a tenant may start now, per pool.

A tenant runs at most `concurrency_quota` notebooks at once. Its pools subdivide that quota
(README, "Roles"): each named pool of Tenant.pools has its own slots, and nodes without a pool
(or naming one the tenant no longer has) share the rest, Tenant.pool_slots()[None], keyed ""
here as in NodeRun.pool. Airflow gets the same split as pool sizes (deployments.airflow_sync).
"""
from collections import Counter

from django.db.models import Count, Q

from runs.models import NodeRun, Run, Status
from tenancy.models import Tenant


def pool_key(tenant: Tenant, pool: str | None) -> str:
    """The NodeRun.pool of a node naming `pool`: the pool if the tenant has it, else ""."""
    return tenant.pool_of(pool) or ""


def node_runs_waiting(tenant_id: int | None = None):
    """The node runs (of one tenant, or of all) that are ready and wait for a slot of their quota."""
    rows = NodeRun.objects.filter(status=Status.QUEUED, token="", dispatched_at__isnull=False)
    return rows if tenant_id is None else rows.filter(run__tenant_id=tenant_id)


def _by_pool(tenant: Tenant, rows) -> Counter:
    """Rows counted per pool key (a pool the tenant no longer has counts as "")."""
    counts = Counter()
    for pool, n in rows.order_by().values_list("pool").annotate(n=Count("id")):
        counts[pool_key(tenant, pool)] += n
    return counts


def free_slots(tenant: Tenant) -> tuple[dict[str, int], int]:
    """({pool key: its slots minus its node runs in flight}, the quota minus all in flight).
    In flight: running, or sent and not yet started."""
    in_flight = NodeRun.objects.filter(run__tenant_id=tenant.pk).filter(
        Q(status=Status.RUNNING, heartbeat_at__isnull=False) | (Q(status=Status.QUEUED) & ~Q(token="")))
    busy = _by_pool(tenant, in_flight)
    free = {pool or "": slots - busy[pool or ""] for pool, slots in tenant.pool_slots().items()}
    return free, tenant.concurrency_quota - sum(busy.values())


def rooms(run: Run) -> tuple[Tenant, dict[str, int], int]:
    """How many node runs `run` may send now, per pool and in all: the free slots that older
    runs' waiting rows of the same pool leave.

    Locks the tenant row, so that two runs of the tenant never hand out the same slot (FOR NO KEY
    UPDATE: creating a run, which takes a key-share lock of its tenant, does not wait for it).
    """
    tenant = Tenant.objects.select_for_update(no_key=True).get(pk=run.tenant_id)
    free, total = free_slots(tenant)
    older = _by_pool(tenant, node_runs_waiting(run.tenant_id).filter(run_id__lt=run.pk))
    return tenant, {pool: max(0, n - older[pool]) for pool, n in free.items()}, max(0, total)


def waiting_in_open_pools(tenant: Tenant, free: dict[str, int]):
    """The tenant's waiting node runs whose pool has a free slot."""
    open_pools = [pool for pool, n in free.items() if n > 0]
    match = Q(pool__in=open_pools)
    if "" in open_pools:  # rows still naming a pool the tenant no longer has share the rest
        match |= ~Q(pool__in=[p for p in free if p])
    return node_runs_waiting(tenant.pk).filter(match)
