from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only (README, "Audit log")."""

    list_display = ["at", "tenant_slug", "actor", "action", "object_type", "object_label", "address"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["actor", "object_label", "tenant_slug", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
