from django.contrib import admin

from tenancy.models import Connection, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "concurrency_quota", "created_at"]
    fields = ["slug", "name", "concurrency_quota", "node_timeout_s", "artifacts_quota_mb", "node_memory_mb",
              "node_max_procs"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    # The secret is managed through the API only; the admin never shows it.
    list_display = ["name", "tenant", "kind", "host", "has_secret"]
    list_filter = ["tenant", "kind"]
    fields = ["tenant", "name", "kind", "description", "host", "port", "login", "schema", "extra"]
