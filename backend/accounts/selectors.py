from django.db.models import QuerySet

from accounts.models import ApiToken


def token_list(*, user) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first; nobody sees another's, not even an admin."""
    return ApiToken.objects.filter(user=user)
