"""Logins: reading credentials, and throttling failures with django-axes (README, "Logins").

Every login (the API token, the browser session, /admin/) goes
through `django.contrib.auth.authenticate` with the request, so axes counts failures per
account and per client address and refuses further tries for a cool-off period.
"""
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework import serializers


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    # Long enough for any passphrase, short enough that hashing it costs nothing.
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


def login_credentials(request) -> dict:
    """The username and password of a login request's body; a 400 naming what is wrong otherwise."""
    data = CredentialsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind LOOM_TRUSTED_PROXIES proxies the address the
    outermost of them saw (X-Forwarded-For is only trusted that far: clients can send it too)."""
    hops = settings.LOOM_TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login gets: 429, JSON on the API, plain text elsewhere (/admin/)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed logins for this account or from this address: try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
