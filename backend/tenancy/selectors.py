from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from tenancy.models import Membership, Role, Tenant
from loom.errors import Forbidden
from loom.roles import is_platform_admin


def tenant_list_for_user(*, user: AbstractBaseUser) -> list[tuple[Tenant, str]]:
    """Tenants the user may open, each with the user's role (platform admins are admins everywhere)."""
    if is_platform_admin(user):
        return [(t, Role.ADMIN) for t in Tenant.objects.all()]
    return [(m.tenant, m.role) for m in Membership.objects.filter(user=user, tenant__is_active=True).select_related("tenant")]


def membership_get(*, user: AbstractBaseUser, tenant_slug: str) -> Membership:
    """The user's membership of a tenant; 404 when the tenant does not exist or the user is not in it,
    403 when it is deactivated (for all but platform admins).

    A platform admin gets an unsaved admin membership, so every tenant-scoped view treats
    them the same way without special cases.
    """
    try:
        if is_platform_admin(user):
            return Membership(tenant=Tenant.objects.get(slug=tenant_slug), user=user, role=Role.ADMIN)
        membership = Membership.objects.select_related("tenant").get(user=user, tenant__slug=tenant_slug)
    except (Tenant.DoesNotExist, Membership.DoesNotExist):
        raise Http404("No such tenant.")
    if not membership.tenant.is_active:
        raise Forbidden(f"The tenant '{tenant_slug}' is deactivated; a platform admin can activate it again.")
    return membership


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user")
