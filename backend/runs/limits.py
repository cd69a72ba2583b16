"""The limits one node run of the local engine gets: platform settings, the tenant's own values,
the node's timeout_s, memory_mb and max_procs (docs/sandbox.md, "Limits"). The rules and the enforcing code
are runtime/limits.py's (and runtime/sandbox.py's), shared with Airflow.

Disk has no quota on these machines (no cgroups or filesystem quotas), so a tenant's artifacts
are measured: before each attempt, the tenant's folder under LOOM_ARTIFACTS_DIR is summed, and
an attempt of a tenant over its quota fails before its notebook starts. The sum is cached for a
few seconds per worker process, so a fan-out of hundreds of items walks the folder once, not
once per item; the check is a guard against a tenant filling the disk, not an accountant.
"""
import threading
import time
from pathlib import Path

from django.conf import settings

from runtime.execute import NotebookFailed
from runtime.limits import Limits, folder_usage, tenant_quota_problem
from tenancy.models import Tenant

USAGE_TTL_S = 5.0
_usage: dict[str, tuple[float, int]] = {}  # tenant folder -> (time.monotonic() measured, bytes)
_usage_lock = threading.Lock()


def node_limits(*, tenant: Tenant, node: dict) -> tuple[float | None, Limits]:
    """The node's whole-notebook timeout and its limits; NotebookFailed (naming the limit) when
    the tenant's artifacts are over its quota, so the node must not run."""
    platform = settings.LOOM_NODE_LIMITS
    if platform.tenant_bytes_max or tenant.artifacts_quota_mb:
        problem = tenant_quota_problem(tenant=tenant.slug, used=tenant_artifacts_usage(tenant=tenant),
                                       platform_bytes=platform.tenant_bytes_max, own_mb=tenant.artifacts_quota_mb)
        if problem:
            raise NotebookFailed(problem)
    limits = platform.kernel(node=node, platform=settings.LOOM_SANDBOX, tenant={
        "node_memory_mb": tenant.node_memory_mb, "node_max_procs": tenant.node_max_procs})
    return limits.timeout(node.get("timeout_s"), tenant.node_timeout_s)


def tenant_artifacts_usage(*, tenant: Tenant) -> int:
    """Bytes under the tenant's artifacts folder, measured at most every USAGE_TTL_S per process."""
    folder = str(Path(settings.LOOM_ARTIFACTS_DIR) / tenant.slug)
    now = time.monotonic()
    with _usage_lock:
        cached = _usage.get(folder)
        if cached and now - cached[0] < USAGE_TTL_S:
            return cached[1]
    used = folder_usage(folder)[1]
    with _usage_lock:
        _usage[folder] = (now, used)
    return used
