"""A tenant's own limits (README, "Limits"): platform admins set them like the concurrency quota."""


def test_platform_admins_set_the_tenants_timeout_and_artifacts_quota(api, root_api, tenant):
    admin_api = root_api
    limits = {"node_timeout_s": 600, "artifacts_quota_mb": 2000}
    assert api.patch(f"/api/tenants/{tenant.slug}/", limits, format="json").status_code == 403
    assert admin_api.patch(f"/api/tenants/{tenant.slug}/", limits, format="json").status_code == 200
    shown = next(t for t in admin_api.get("/api/tenants/").json() if t["slug"] == tenant.slug)
    assert {k: shown[k] for k in limits} == limits
    cleared = admin_api.patch(f"/api/tenants/{tenant.slug}/", {"node_timeout_s": None}, format="json").json()
    assert cleared["node_timeout_s"] is None  # back to the platform's LOOM_NODE_TIMEOUT_S
    assert admin_api.patch(f"/api/tenants/{tenant.slug}/", {"artifacts_quota_mb": -1}, format="json").status_code == 400


def test_a_tenants_kernel_defaults_above_the_platform_maximum_are_refused_naming_it(root_api, tenant, settings):
    """A node cannot ask for more than LOOM_KERNEL_MEMORY_MB, LOOM_KERNEL_MAX_PROCS or
    LOOM_NODE_TIMEOUT_MAX_S; nor can its tenant's defaults."""
    top = settings.LOOM_SANDBOX
    url = f"/api/tenants/{tenant.slug}/"
    over = root_api.patch(url, {"node_memory_mb": top.memory_mb + 1, "node_max_procs": top.max_procs + 1}, format="json")
    assert over.status_code == 400
    body = over.json()
    assert f"At most {top.memory_mb:,} MB: the platform maximum (LOOM_KERNEL_MEMORY_MB)." in str(body), body
    assert (f"At most {top.max_procs:,} processes and threads: the platform maximum (LOOM_KERNEL_MAX_PROCS)."
            in str(body)), body
    tenant.refresh_from_db()
    assert (tenant.node_memory_mb, tenant.node_max_procs) == (None, None)
    longest = int(settings.LOOM_NODE_LIMITS.timeout_max_s)
    too_long = root_api.patch(url, {"node_timeout_s": longest + 1}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["node_timeout_s"] == [f"At most {longest:,} s: the platform maximum (LOOM_NODE_TIMEOUT_MAX_S)."]
    at_most = {"node_memory_mb": top.memory_mb, "node_max_procs": top.max_procs, "node_timeout_s": longest}
    assert root_api.patch(url, at_most, format="json").status_code == 200
    created = root_api.post("/api/tenants/", {"slug": "bigger", "name": "Bigger", "node_memory_mb": top.memory_mb + 1},
                            format="json")
    assert created.status_code == 400 and "LOOM_KERNEL_MEMORY_MB" in str(created.json())
