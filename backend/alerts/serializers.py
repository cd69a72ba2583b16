from rest_framework import serializers

from alerts.models import Channel, Delivery
from tenancy.models import connection_name_validator


class ChannelSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=63, validators=[connection_name_validator],
                                 help_text="What workflows' alert rules call the channel.")
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False, max_length=500,
        help_text="Write-only; webhooks only (other kinds keep none): the key they are signed with (X-Loom-Signature: sha256=<HMAC-SHA256 of the body>). "
                  "Omit to keep the stored secret; send an empty string to clear it.")
    has_secret = serializers.BooleanField(read_only=True)
    used_by = serializers.SerializerMethodField(help_text="The workflows whose latest version has a rule naming the channel.")

    class Meta:
        model = Channel
        fields = ["id", "name", "kind", "url", "address", "secret", "has_secret", "used_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_used_by(self, channel) -> list[str]:
        return self.context.get("used_by", {}).get(channel.name, [])


class DeliverySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.name", read_only=True)
    workflow = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "run", "workflow", "channel", "event", "status", "attempts", "last_error", "next_attempt_at",
                  "created_at", "delivered_at"]
        read_only_fields = fields

    def get_workflow(self, delivery) -> int | None:
        return delivery.run.workflow_id if delivery.run_id else None
