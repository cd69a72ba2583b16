from django.contrib import admin

from loom.roles import is_platform_admin
from tenancy.models import Connection, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "concurrency_quota", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]

    # Quotas, pools and queues are the platform admin's, whatever else a staff user was granted.
    def has_add_permission(self, request):
        return is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_platform_admin(request.user)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    # The secret is managed through the API only; the admin never shows it.
    list_display = ["name", "tenant", "kind", "host", "has_secret"]
    list_filter = ["tenant", "kind"]
    fields = ["tenant", "name", "kind", "description", "host", "port", "login", "schema", "extra"]
