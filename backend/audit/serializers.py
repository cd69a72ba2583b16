from rest_framework import serializers

from audit.models import Action, ActorKind, AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=Action.choices, read_only=True)
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices, read_only=True)
    tenant = serializers.CharField(source="tenant_slug", read_only=True,
                                   help_text="The tenant's slug; empty for logins and the like.")
    before = serializers.JSONField(read_only=True, help_text="What changed, as it was (never a secret's value).")
    after = serializers.JSONField(
        read_only=True, help_text="What changed, as it became. A connection's secret fields show as "
                                   "\"set\", \"replaced\" or \"cleared\", never their values.")

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "tenant", "actor", "actor_kind", "address", "action", "object_type", "object_id",
                  "object_label", "before", "after"]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    """The query parameters of the audit lists; a bad one is a 400 naming it."""

    actor = serializers.CharField(required=False, max_length=150, help_text="A username, or system, scheduler, airflow, anonymous.")
    action = serializers.CharField(
        required=False, max_length=40,
        help_text="An action (\"workflow.saved\"), or a category without the dot (\"run\": every run.* action).")
    object_type = serializers.CharField(required=False, max_length=40, help_text="workflow, run, deployment, notebook, "
                                                                                  "connection, member, tenant, user.")
    object_id = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; entries at or after it.")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; entries before it.")


class PlatformAuditFilterSerializer(AuditFilterSerializer):
    tenant = serializers.CharField(required=False, max_length=40, help_text="A tenant's slug.")
