from rest_framework import serializers

from tenancy.models import Connection, Membership, Role, Tenant, connection_name_validator, slug_validator


class TenantSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The requesting user's role in this tenant.")
    slug = serializers.CharField(max_length=40, validators=[slug_validator])

    class Meta:
        model = Tenant
        fields = ["slug", "name", "concurrency_quota", "node_timeout_s", "artifacts_quota_mb", "node_memory_mb",
                  "node_max_procs", "role", "created_at"]
        read_only_fields = ["created_at"]

    def get_role(self, tenant) -> str:
        return self.context.get("roles", {}).get(tenant.pk, Role.ADMIN)


class TenantUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["name", "concurrency_quota", "node_timeout_s", "artifacts_quota_mb", "node_memory_mb", "node_max_procs"]


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]
        read_only_fields = fields


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(required=False, write_only=True, min_length=8, style={"input_type": "password"})
    email = serializers.EmailField(required=False, default="")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


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

    class Meta:
        model = Connection
        fields = ["id", "name", "kind", "description", "host", "port", "login", "schema", "extra",
                  "secret", "has_secret", "secrets_set", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_secrets_set(self, connection) -> dict[str, bool]:
        return connection.secrets_set()

    def validate_extra(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("extra must be a JSON object.")
        return value
