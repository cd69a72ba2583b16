"""Django's admin site is the platform admin's (loom.admin_site): its pages hold every tenant's
connections, tokens, members and audit log, so no per-model permission opens any of them."""
import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.services import token_create
from audit.services import record
from tenancy.models import Connection


def pages(obj_of) -> list[str]:
    """Every registered model's list and add pages, and the change page of one object of each
    model that has one (tokens, connections, audit entries, users, tenants...)."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        if (obj := obj_of(model)) is not None:
            urls.append(reverse(f"{name}_change", args=[obj.pk]))
    return urls


@pytest.fixture
def cross_tenant_data(tenant, other_tenant, admin, make_user):
    Connection.objects.create(tenant=other_tenant, name="warehouse", kind="postgres", host="db.internal")
    token_create(user=make_user("olga", other_tenant), name="laptop", expires_in_days=30)
    record("workflow.saved", tenant=other_tenant, object_type="workflow", object_id=1, label="secret plans")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_user_with_every_model_permission_opens_no_admin_page(make_user, cross_tenant_data):
    staff = make_user("stan", is_staff=True)
    staff.user_permissions.add(*Permission.objects.all())
    client = client_of(staff)
    registered = {m._meta.label for m in admin.site._registry}
    assert {"tenancy.Connection", "accounts.ApiToken", "audit.AuditEntry", "auth.User", "tenancy.Tenant"} <= registered
    urls = pages(lambda model: model._default_manager.first())
    for model in ("tenancy/connection", "accounts/apitoken", "audit/auditentry", "auth/user", "tenancy/tenant"):
        assert any(url.startswith(f"/admin/{model}/") and url.endswith("/change/") for url in urls), model
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    # Nor do the login form's credentials open it: he is sent back to the form, told he may not.
    stan = Client()
    staff.set_password("stan-lantern-42")
    staff.save()
    assert stan.post("/admin/login/", {"username": "stan", "password": "stan-lantern-42"}).status_code == 302
    denied = stan.get(reverse("admin:tenancy_connection_changelist"), follow=True)
    assert "warehouse" not in denied.content.decode()
    assert "not authorized to access this page" in denied.content.decode()


def test_a_platform_admin_opens_every_admin_page(make_user, cross_tenant_data):
    client = client_of(make_user("root", is_staff=True, is_superuser=True))
    for url in pages(lambda model: model._default_manager.first()):
        response = client.get(url)
        assert response.status_code in (200, 403), url  # 403: add pages the model admin refuses to everyone
    listing = client.get(reverse("admin:tenancy_connection_changelist")).content.decode()
    assert "warehouse" in listing
    assert "secret plans" in client.get(reverse("admin:audit_auditentry_changelist")).content.decode()


def test_an_inactive_superuser_opens_nothing(make_user):
    client = client_of(make_user("gone", is_staff=True, is_superuser=True, is_active=False))
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_site_cannot_deactivate_a_tenant_around_the_service(make_user, tenant):
    """Deactivating also cancels the tenant's runs and backfills (ops.services.tenant_activate), which a
    bare field in the admin's form would skip: there it is read only; the platform page does it."""
    client = client_of(make_user("root", is_staff=True, is_superuser=True))
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="is_active"' not in page.content.decode()
    client.post(url, {"slug": tenant.slug, "name": tenant.name, "concurrency_quota": tenant.concurrency_quota,
                      "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    tenant.refresh_from_db()
    assert tenant.is_active
