"""Token authentication: knox's, saying why a token is refused (expired or invalid, both 401)
and noting when each token was last used.

No import of loom.errors or services here: DRF's settings import this module while
rest_framework.views (which loom.errors imports) is still loading.
"""
import binascii
from datetime import timedelta
from hmac import compare_digest

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiToken

INVALID = "Invalid token: it was revoked, or never existed."
# last_used is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_used(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used is None or token.last_used < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>`. Unlike knox's own, an expired token is kept (the owner
    sees it listed as expired) and refused as expired rather than deleted and called invalid."""

    def authenticate_credentials(self, token: bytes):
        try:
            secret = token.decode("utf-8")
            digest = hash_token(secret)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise AuthenticationFailed(INVALID, code="token_invalid") from None
        candidates = ApiToken.objects.filter(token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user")
        for candidate in candidates:
            if compare_digest(digest, candidate.digest):
                if candidate.expired:
                    when = timezone.localtime(candidate.expiry).isoformat(timespec="seconds")
                    raise AuthenticationFailed(f"Token expired at {when}: create a new one.", code="token_expired")
                user, auth = self.validate_user(candidate)
                token_used(candidate)
                return user, auth
        raise AuthenticationFailed(INVALID, code="token_invalid")


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes it: `Authorization: Token <secret>`, as DRF's token was."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
