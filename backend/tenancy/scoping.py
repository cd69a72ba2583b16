"""The one path from a request to tenant-owned rows.

Every view under /api/tenants/{tenant}/ inherits TenantScopedMixin: it resolves the tenant
from the URL through the user's membership (404 for outsiders), checks the role the method
needs (403), and builds querysets as `model.objects.filter(tenant=...)`, so no view can
forget the filter.
"""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenancy.models import Role
from tenancy.selectors import membership_get


class HasTenantRole(BasePermission):
    """Viewers read; writes need the view's `write_role` (editor unless the view says admin)."""

    message = "Your role in this tenant does not allow this."

    def has_permission(self, request, view):
        needed = view.read_role if request.method in SAFE_METHODS else view.write_role
        return request.membership.has_role(needed)


class TenantScopedMixin:
    """Mixin for DRF views whose URL carries `<tenant>`."""

    tenant_model = None  # the TenantOwned model whose rows the view serves
    read_role = Role.VIEWER
    write_role = Role.EDITOR

    def initial(self, request, *args, **kwargs):
        # Authenticate first (DRF does it lazily), then resolve the tenant before permissions run.
        self.perform_authentication(request)
        if request.user and request.user.is_authenticated:
            request.membership = membership_get(user=request.user, tenant_slug=kwargs["tenant"])
            request.tenant = request.membership.tenant
        super().initial(request, *args, **kwargs)

    def get_permissions(self):
        return [*super().get_permissions(), HasTenantRole()]

    @property
    def tenant(self):
        return self.request.tenant

    def get_queryset(self):
        return self.tenant_model.objects.filter(tenant=self.request.tenant)
