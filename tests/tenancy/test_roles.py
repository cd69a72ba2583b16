"""Who is a platform admin, and what only they may change (README, "Roles")."""
import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from loom.roles import is_platform_admin
from tenancy.models import PLATFORM_FIELDS, Tenant


def test_a_platform_admin_is_an_active_superuser(make_user):
    assert is_platform_admin(make_user("root", is_superuser=True))
    assert not is_platform_admin(make_user("gone", is_superuser=True, is_active=False))
    assert not is_platform_admin(make_user("staff", is_staff=True))  # Django's admin site only
    assert not is_platform_admin(AnonymousUser()) and not is_platform_admin(None)


def test_me_says_whether_the_user_is_a_platform_admin(make_user, tenant):
    for username, extra, expected in [("root", {"is_superuser": True}, True), ("staff", {"is_staff": True}, False)]:
        client = APIClient()
        client.force_login(make_user(username, tenant, **extra))
        assert client.get("/api/auth/me/").json()["user"]["is_platform_admin"] is expected


def test_staff_users_are_not_admins_of_every_tenant(make_user, client_for, tenant):
    staff = client_for(make_user("staff", is_staff=True))
    assert staff.get("/api/tenants/").json() == []
    assert staff.get("/api/tenants/acme/").status_code == 404
    assert staff.post("/api/tenants/", {"slug": "mine", "name": "Mine"}, format="json").status_code == 403


CHANGES = {"concurrency_quota": 3, "pools": {"heavy": 1}, "allowed_queues": ["gpu"], "node_timeout_s": 60,
           "artifacts_quota_mb": 10, "node_memory_mb": 512, "node_max_procs": 32}


def test_every_platform_field_has_a_change_here():
    assert set(CHANGES) == set(PLATFORM_FIELDS), "a new platform-owned field needs a change in CHANGES"


@pytest.mark.parametrize("field", PLATFORM_FIELDS)
def test_tenant_admins_cannot_change_platform_fields(admin_api, root_api, tenant, field):
    response = admin_api.patch("/api/tenants/acme/", {field: CHANGES[field], "name": "Renamed"}, format="json")
    assert response.status_code == 403 and response.json()["fields"] == [field]
    assert field in response.json()["detail"]
    assert Tenant.objects.get(pk=tenant.pk).name == "Acme"  # nothing half-written
    assert root_api.patch("/api/tenants/acme/", {field: CHANGES[field]}, format="json").json()[field] == CHANGES[field]


def test_a_form_may_send_the_current_values_back(admin_api, tenant):
    current = admin_api.get("/api/tenants/acme/").json()
    body = {k: current[k] for k in ("name", *PLATFORM_FIELDS)} | {"description": "Data team"}
    response = admin_api.patch("/api/tenants/acme/", body, format="json")
    assert response.status_code == 200 and response.json()["description"] == "Data team"


def test_two_refused_fields_are_both_named(admin_api, tenant):
    response = admin_api.patch("/api/tenants/acme/", {"concurrency_quota": 100, "pools": {"x": 2}}, format="json")
    assert response.status_code == 403 and response.json()["fields"] == ["concurrency_quota", "pools"]


@pytest.mark.parametrize("body, field, message", [
    ({"pools": {"heavy": 8}}, "pools", "at most 7"),
    ({"pools": {"a": 4, "b": 4}}, "pools", "Pools take 8 slots"),
    ({"pools": {"Bad Name": 1}}, "pools", "Pool 'Bad Name'"),
    ({"pools": {"heavy": 0}}, "pools", ""),
    ({"pools": ["heavy"]}, "pools", ""),
    ({"allowed_queues": ["ok", "no spaces"]}, "allowed_queues", "Queue 'no spaces'"),
    ({"allowed_queues": "gpu"}, "allowed_queues", ""),
    ({"concurrency_quota": 2, "pools": {"heavy": 2}}, "pools", "at most 1"),
])
def test_pools_subdivide_the_quota(root_api, tenant, body, field, message):
    response = root_api.patch("/api/tenants/acme/", body, format="json")
    assert response.status_code == 400 and message in str(response.json()[field])
    assert Tenant.objects.get(pk=tenant.pk).pools == {}


def test_lowering_the_quota_below_the_pools_is_refused(root_api, tenant):
    assert root_api.patch("/api/tenants/acme/", {"pools": {"heavy": 5}}, format="json").status_code == 200
    response = root_api.patch("/api/tenants/acme/", {"concurrency_quota": 4}, format="json")
    assert response.status_code == 400 and "with a concurrency_quota of 4" in str(response.json()["pools"])
    tenant.refresh_from_db()
    assert tenant.concurrency_quota == 8 and tenant.pool_slots() == {None: 3, "heavy": 5}


def test_platform_admins_create_tenants_with_their_limits(root_api, db):
    body = {"slug": "new", "name": "New", "concurrency_quota": 4, "pools": {"heavy": 2}, "allowed_queues": ["gpu"]}
    response = root_api.post("/api/tenants/", body, format="json")
    assert response.status_code == 201 and response.json()["pools"] == {"heavy": 2}
    refused = root_api.post("/api/tenants/", body | {"slug": "new2", "pools": {"heavy": 4}}, format="json")
    assert refused.status_code == 400 and "pools" in refused.json()


def test_staff_granted_tenant_permissions_in_the_admin_site_still_cannot_change_a_tenant(make_user, tenant):
    from django.contrib.auth.models import Permission

    staff = make_user("staff", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_tenant", "add_tenant"]))
    client = APIClient()
    client.force_login(staff)
    url = f"/admin/tenancy/tenant/{tenant.pk}/change/"
    response = client.post(url, {"slug": "acme", "name": "Acme", "concurrency_quota": 1000, "pools": "{}",
                                 "allowed_queues": "[]"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")  # loom.admin_site
    assert client.get("/admin/tenancy/tenant/add/").status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).concurrency_quota == 8
