from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from tenancy import services
from tenancy.kinds import SECRET_MIN_LENGTH
from tenancy.models import Connection, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_active", "concurrency_quota", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]
    # Deactivating stops the tenant's runs and backfills too (ops.services.tenant_activate): the
    # platform page (/platform/tenants) or PATCH /api/platform/tenants/{t}/ does it, not a bare field.
    readonly_fields = ["is_active"]


class ConnectionAdminForm(forms.ModelForm):
    """The password is write-only here as in the API: never shown, set or replaced by typing one,
    cleared with the box. Secret keys of `extra` typed into `extra` are encrypted on save."""

    secret = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False),
        help_text=f"Write-only. Empty keeps the stored password; at least {SECRET_MIN_LENGTH} characters.")
    clear_secret = forms.BooleanField(required=False, label="Clear the stored password")

    class Meta:
        model = Connection
        fields = ["tenant", "name", "kind", "description", "host", "port", "login", "schema", "extra"]

    def clean(self):
        data = super().clean()
        if data.get("secret") and data.get("clear_secret"):
            self.add_error("secret", "Type a new password or clear it, not both.")
        elif data.get("secret") and len(data["secret"]) < SECRET_MIN_LENGTH:
            self.add_error("secret", f"Use at least {SECRET_MIN_LENGTH} characters: a short secret cannot be "
                                     "scrubbed from outputs.")
        return data


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["name", "tenant", "kind", "host", "has_secret"]
    list_filter = ["tenant", "kind"]
    fields = ["tenant", "name", "kind", "description", "host", "port", "login", "schema", "extra",
              "has_secret", "secret", "clear_secret"]
    readonly_fields = ["has_secret"]

    def save_model(self, request, obj, form, change):
        """Through the service, which encrypts the secret fields (tenancy.services.connection_save)."""
        data = {}
        if form.cleaned_data.get("clear_secret"):
            data = {"secret": ""}
        elif form.cleaned_data.get("secret"):
            data = {"secret": form.cleaned_data["secret"]}
        services.connection_save(tenant=obj.tenant, connection=obj, data=data)

    def get_actions(self, request):
        # Bulk delete would skip the in-use check of delete_view.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """Refused, naming the workflows, while workflows use the connection (as in the API)."""
        obj = self.get_object(request, object_id)
        if obj is not None:
            try:
                services.connection_check_deletable(connection=obj)
            except services.ConnectionInUse as e:
                self.message_user(request, str(e), messages.ERROR)
                return redirect("admin:tenancy_connection_change", obj.pk)
        return super().delete_view(request, object_id, extra_context)
