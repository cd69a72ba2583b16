"""The audit log's API: a tenant's entries for its admins, everyone's for platform admins.
Read-only: nothing in the API changes an entry."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination

from audit import selectors
from audit.models import AuditEntry
from audit.serializers import AuditEntrySerializer, AuditFilterSerializer, PlatformAuditFilterSerializer
from loom.roles import IsPlatformAdmin
from tenancy.models import Role
from tenancy.scoping import TenantScopedMixin


class AuditPagination(CursorPagination):
    """Newest first, `limit` entries a page (at most 500); `next` and `previous` are links to follow.
    A cursor stays valid while entries are added, since entries never change."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


class _AuditListView(generics.ListAPIView):
    serializer_class = AuditEntrySerializer
    pagination_class = AuditPagination
    filters_class = AuditFilterSerializer

    def filters(self) -> dict:
        data = self.filters_class(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return data.validated_data


@extend_schema(parameters=[AuditFilterSerializer])
class TenantAuditView(TenantScopedMixin, _AuditListView):
    """The tenant's audit log, newest first: every change and action in it, who did it and when.
    Tenant admins only (and platform admins)."""

    tenant_model = AuditEntry
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        return selectors.audit_entries(tenant=self.tenant, **self.filters())


@extend_schema(parameters=[PlatformAuditFilterSerializer])
class PlatformAuditView(_AuditListView):
    """Every tenant's audit log, and what belongs to none (failed logins). Platform admins only."""

    permission_classes = [IsPlatformAdmin]
    filters_class = PlatformAuditFilterSerializer

    def get_queryset(self):
        filters = self.filters()
        return selectors.audit_entries(tenant_slug=filters.pop("tenant", ""), **filters)
