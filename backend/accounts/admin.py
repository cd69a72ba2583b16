from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Platform admins see and revoke tokens; users create them (the secret is shown to its owner only)."""

    list_display = ["name", "user", "created", "expiry", "last_used"]
    list_filter = ["expiry"]
    search_fields = ["name", "user__username"]
    fields = ["user", "name", "created", "expiry", "last_used"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
