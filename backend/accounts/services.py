"""Creating, using and revoking API tokens (README, "API tokens")."""
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken
from loom.errors import FieldsInvalid, Invalid

# Expired tokens stay listed this long (a script's owner sees why it stopped), then go.
KEEP_EXPIRED = timedelta(days=7)


def token_create(*, user, name: str, expires_in_days: int) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown this once: only its digest is stored."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expiry__lt=now - KEEP_EXPIRED).delete()
    limit = settings.LOOM_TOKEN_MAX_PER_USER
    if ApiToken.objects.filter(user=user, expiry__gt=now).count() >= limit:
        raise Invalid(f"You have {limit} unexpired API tokens, the most allowed: revoke one first.")
    try:
        with transaction.atomic():
            return ApiToken.objects.create(user=user, name=name, expiry=timedelta(days=expires_in_days))
    except IntegrityError:  # the same name, created at the same moment by another request
        raise FieldsInvalid({"name": [name_taken(name)]}) from None


def name_taken(name: str) -> str:
    return f"You already have a token named {name!r}."


def login_token_name(user) -> str:
    """The name a token from /api/auth/token/ gets unless the login names it: when it was made."""
    base = f"login {timezone.now():%Y-%m-%d %H:%M:%S}"
    taken = set(ApiToken.objects.filter(user=user, name__startswith=base).values_list("name", flat=True))
    return next(n for n in (base, *(f"{base} ({i})" for i in range(2, len(taken) + 2))) if n not in taken)


def token_revoke(token: ApiToken) -> None:
    token.delete()


def tokens_revoke_all(user) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]
