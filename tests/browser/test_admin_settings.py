"""The tenant Settings admin page (issue 12), in a real Chromium: a tenant admin renames the
tenant and sees its limits read-only; a platform admin changes the quota and the pools, and the
API's refusal of pools larger than the quota shows under the pools."""
import pytest

from browser.conftest import login
from tenancy.models import Membership, Tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tenant_admin_renames_and_sees_limits_read_only(page, demo, shot):
    Membership.objects.filter(tenant=demo, user__username="editor").update(role="admin")  # an admin, not platform admin
    Tenant.objects.filter(pk=demo.pk).update(pools={"heavy": 2})
    login(page, "editor")
    page.goto("/t/demo/admin/settings")
    form = page.get_by_role("form", name="Tenant settings")
    limits = form.get_by_role("definition")
    form.get_by_text("Set by the platform's admins").wait_for()
    assert "8 notebooks at once" in limits.all_inner_texts() and "heavy: 2 slots" in limits.all_inner_texts()
    assert form.get_by_label("Concurrency quota").count() == 0
    form.get_by_label("Name").fill("Demo squad")
    form.get_by_label("Description").fill("Churn models and friends")
    form.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    page.locator(".topbar").get_by_text("Demo squad").wait_for()  # the crumb follows
    demo.refresh_from_db()
    assert (demo.name, demo.description, demo.concurrency_quota) == ("Demo squad", "Churn models and friends", 8)
    shot(page, "admin-settings-tenant-admin")


def test_platform_admin_changes_quota_and_pools(page, demo, console, shot):
    console.allow(r"status of 400")
    login(page, "admin")
    page.goto("/t/demo/admin")
    page.get_by_role("link", name="Settings").click()
    form = page.get_by_role("form", name="Tenant settings")
    form.get_by_label("Concurrency quota").fill("4")
    form.get_by_role("button", name="Add pool").click()
    form.get_by_label("Pool 1 name").fill("heavy")
    form.get_by_label("Pool 1 slots").fill("5")
    form.get_by_role("button", name="Save settings").click()
    form.get_by_text("Pools take 5 slots; with a concurrency_quota of 4 they may take at most 3").wait_for()
    shot(page, "admin-settings-pools-refused")
    assert Tenant.objects.get(pk=demo.pk).pools == {}
    form.get_by_label("Pool 1 slots").fill("2")
    form.get_by_label("Allowed queues").fill("gpu, io")
    form.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    demo.refresh_from_db()
    assert (demo.concurrency_quota, demo.pools, demo.allowed_queues) == (4, {"heavy": 2}, ["gpu", "io"])
    shot(page, "admin-settings-platform-admin")
