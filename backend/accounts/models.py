"""API tokens: django-rest-knox's hashed tokens (knox stores a SHA-512 digest, never the secret),
swapped in through KNOX_TOKEN_MODEL so that each carries a name and when it was last used."""
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

NAME_MAX_LENGTH = 100


class ApiToken(AbstractAuthToken):
    # A plain id to list and revoke by: knox's primary key is the digest, which the API never shows.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="accounts_apitoken_name_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user} / {self.name}"

    @property
    def expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()
