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
