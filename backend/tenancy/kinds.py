"""Connection kinds, and which of their fields are secret: the one place that says so.

A secret field is encrypted at rest, write-only in the API (shown as set or not set), given
to the notebook's kernel when it runs and scrubbed from everything the notebook leaves behind.
The password (`secret`) is secret for every kind; a kind adds the keys of `extra` that carry
credentials, named "extra.<key>".
"""
from django.db import models

SECRET_MIN_LENGTH = 8


class ConnectionKind(models.TextChoices):
    POSTGRES = "postgres"
    MYSQL = "mysql"
    S3 = "s3"
    HTTP = "http"
    GENERIC = "generic"


SECRET_EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    ConnectionKind.POSTGRES: (),
    ConnectionKind.MYSQL: (),
    ConnectionKind.S3: ("aws_secret_access_key", "aws_session_token"),
    ConnectionKind.HTTP: ("token", "api_key"),
    ConnectionKind.GENERIC: ("token", "api_key"),
}


def secret_extra_keys(kind: str) -> tuple[str, ...]:
    """The keys of `extra` a connection of this kind keeps encrypted."""
    return SECRET_EXTRA_KEYS.get(kind, ())


def secret_fields(kind: str) -> tuple[str, ...]:
    """Every secret field of the kind, as the API names them: "secret" and "extra.<key>"."""
    return ("secret", *(f"extra.{key}" for key in secret_extra_keys(kind)))
