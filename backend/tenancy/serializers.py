from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from tenancy.models import (
    PLATFORM_FIELDS,
    Connection,
    ConnectionTest,
    Invitation,
    Membership,
    Role,
    Tenant,
    connection_name_validator,
    slug_validator,
)


def platform_max(key: str, setting: str, unit: str):
    """A validator: at most the platform's maximum `setting` (read when validating, so a changed
    setting applies), named. A node's own limits (workflows.serializers) and a tenant's defaults
    share it. `key`: memory_mb or max_procs (the sandbox's), or timeout_max_s (the node limits')."""
    def check(value):
        top = settings.LOOM_NODE_LIMITS.timeout_max_s if key == "timeout_max_s" else getattr(settings.LOOM_SANDBOX, key)
        if value is not None and top and value > top:
            raise serializers.ValidationError(f"At most {int(top):,} {unit}: the platform maximum ({setting}).")
    return check


MEMORY_MAX = ("memory_mb", "LOOM_KERNEL_MEMORY_MB", "MB")
PROCS_MAX = ("max_procs", "LOOM_KERNEL_MAX_PROCS", "processes and threads")
TIMEOUT_MAX = ("timeout_max_s", "LOOM_NODE_TIMEOUT_MAX_S", "s")


# A tenant's defaults for its nodes: never above the platform maximum a node could ask for.
_LIMITS_MAX = {
    "node_memory_mb": {"validators": [platform_max(*MEMORY_MAX)]},
    "node_max_procs": {"validators": [platform_max(*PROCS_MAX)]},
    "node_timeout_s": {"validators": [platform_max(*TIMEOUT_MAX)]},
}


class _TenantFields(serializers.ModelSerializer):
    pools = serializers.DictField(
        child=serializers.IntegerField(min_value=1), required=False,
        help_text="{pool name: slots}, reserved out of concurrency_quota for the nodes naming the pool; "
                  "together at most concurrency_quota - 1. Platform admins only.")
    allowed_queues = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100,
        help_text="The Airflow queues nodes may name; empty: the default queue only. Platform admins only.")


class TenantSerializer(_TenantFields):
    role = serializers.SerializerMethodField(help_text="The requesting user's role in this tenant.")
    slug = serializers.CharField(max_length=40, validators=[slug_validator])

    class Meta:
        model = Tenant
        fields = ["slug", "name", "description", *PLATFORM_FIELDS, "role", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = _LIMITS_MAX

    def get_role(self, tenant) -> str:
        return self.context.get("roles", {}).get(tenant.pk, Role.ADMIN)


class TenantUpdateSerializer(_TenantFields):
    """Tenant admins change name and description; the other fields are the platform admin's."""

    class Meta:
        model = Tenant
        fields = ["name", "description", *PLATFORM_FIELDS]
        extra_kwargs = _LIMITS_MAX


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.SerializerMethodField(help_text="Shown to the tenant's admins only; null for other members.")

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]
        read_only_fields = fields

    def get_email(self, membership) -> str | None:
        return membership.user.email if self.context.get("show_emails") else None


class MemberCreateSerializer(serializers.Serializer):
    """Platform admins only: add an existing user, or create one with a password."""

    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(required=False, write_only=True, min_length=8, style={"input_type": "password"})
    email = serializers.EmailField(required=False, default="")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, allow_null=True, default=None)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at", "status"]
        read_only_fields = ["id", "invited_by", "created_at", "expires_at", "status"]

    def get_status(self, invitation) -> str:
        """pending, accepted or expired."""
        if invitation.accepted_at:
            return "accepted"
        return "expired" if invitation.expires_at <= timezone.now() else "pending"


class InvitationTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token of the mailed link (…/invitations/<token>).")


class InvitationSignupSerializer(InvitationTokenSerializer):
    """The username is the invitation's email (tenancy.invitations.invitation_signup)."""

    password = serializers.CharField(max_length=200, write_only=True, style={"input_type": "password"})


class InvitationPreviewSerializer(serializers.Serializer):
    tenant = serializers.CharField(source="tenant.slug")
    tenant_name = serializers.CharField(source="tenant.name")
    email = serializers.EmailField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


class InvitationJoinedSerializer(serializers.Serializer):
    tenant = serializers.CharField(source="tenant.slug")
    role = serializers.CharField()
    username = serializers.CharField(source="user.username")


class ConnectionSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False,
        help_text="Write-only. Omit to keep the stored secret; send an empty string to clear it.",
    )
    has_secret = serializers.BooleanField(read_only=True)
    secrets_set = serializers.SerializerMethodField(
        help_text="Each secret field of the kind (\"secret\", \"extra.<key>\") and whether it holds a value. "
                  "Secret keys of `extra` are write-only like `secret`: send them in `extra`, omit to keep, \"\" to clear.",
    )
    name = serializers.CharField(max_length=63, validators=[connection_name_validator])
    used_by = serializers.SerializerMethodField(
        help_text="The workflows whose latest version has a node naming this connection (it cannot be deleted then).")

    class Meta:
        model = Connection
        fields = ["id", "name", "kind", "description", "host", "port", "login", "schema", "extra",
                  "secret", "has_secret", "secrets_set", "used_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_used_by(self, connection) -> list[str]:
        return self.context.get("used_by", {}).get(connection.name, [])

    def get_secrets_set(self, connection) -> dict[str, bool]:
        return connection.secrets_set()

    def validate_extra(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("extra must be a JSON object.")
        return value


class ConnectionTestSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ConnectionTest.Status.choices, read_only=True,
                                     help_text="pending: no worker has tried it yet; ok; failed (see message).")
    message = serializers.CharField(read_only=True, help_text="The server's answer or error text; never a secret.")
    requested_by = serializers.CharField(source="requested_by.username", default="", read_only=True)

    class Meta:
        model = ConnectionTest
        fields = ["id", "status", "message", "requested_by", "created_at", "finished_at"]
        read_only_fields = fields


class ConnectionKindField(serializers.Serializer):
    name = serializers.CharField(help_text="host, port, login, schema; a key of extra; or a secret field (\"secret\", \"extra.<key>\").")
    label = serializers.CharField()


class ConnectionKindSerializer(serializers.Serializer):
    """A connection kind's form (tenancy.kinds.KIND_FORMS)."""

    kind = serializers.CharField()
    label = serializers.CharField()
    default_port = serializers.IntegerField(allow_null=True)
    free_extra = serializers.BooleanField(help_text="The form also edits `extra` as a JSON object.")
    fields = ConnectionKindField(many=True, help_text="The connection fields the kind uses.")
    extra_keys = ConnectionKindField(many=True, help_text="Plain keys of `extra` the form offers.")
    secret_fields = ConnectionKindField(many=True, help_text="Write-only fields, as `secrets_set` names them.")
