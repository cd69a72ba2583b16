from django.conf import settings
from rest_framework import serializers

from accounts.models import NAME_MAX_LENGTH, ApiToken
from accounts.services import name_taken
from web.logins import CredentialsSerializer


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its secret, nor anything derived from it."""

    expires = serializers.DateTimeField(source="expiry", read_only=True)
    expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expires", "expired", "last_used"]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: shown in this answer only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    """What a new token is: a name unique among the user's tokens, and days until it expires."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    expires_in_days = serializers.IntegerField(
        required=False, min_value=1, help_text="Default LOOM_TOKEN_DEFAULT_DAYS, at most LOOM_TOKEN_MAX_DAYS.")

    def validate_name(self, name: str) -> str:
        if ApiToken.objects.filter(user=self.context["user"], name=name).exists():
            raise serializers.ValidationError(name_taken(name))
        return name

    def validate_expires_in_days(self, days: int) -> int:
        if days > settings.LOOM_TOKEN_MAX_DAYS:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to {settings.LOOM_TOKEN_MAX_DAYS}.")
        return days

    def validate(self, data: dict) -> dict:
        return {"expires_in_days": min(settings.LOOM_TOKEN_DEFAULT_DAYS, settings.LOOM_TOKEN_MAX_DAYS), **data}


class TokenLoginSerializer(CredentialsSerializer, ApiTokenCreateSerializer):
    """A login for a token: the credentials, and optionally the token's name and lifetime;
    without a name, the token is named after when it was made."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False)
