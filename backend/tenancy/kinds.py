"""Connection kinds, and which of their fields are secret: the one place that says so.

A secret field is encrypted at rest, write-only in the API (shown as set or not set), given
to the notebook's kernel when it runs and scrubbed from everything the notebook leaves behind.
The password (`secret`) is secret for every kind; a kind adds the keys of `extra` that carry
credentials, named "extra.<key>". KIND_FORMS says which fields a kind's form offers (served at
/api/connection-kinds/ so the app's form follows this file).
"""
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class KindForm:
    """The fields a connection of a kind uses, with their labels: what the app's form shows."""

    label: str
    fields: dict[str, str]  # of host, port, login, schema: {field: label}
    secret_label: str  # the label of `secret`
    extra_keys: dict[str, str] = field(default_factory=dict)  # plain keys of `extra` the form offers
    secret_extra_labels: dict[str, str] = field(default_factory=dict)  # labels of SECRET_EXTRA_KEYS
    default_port: int | None = None
    free_extra: bool = False  # the form also edits `extra` as JSON


_DATABASE = {"host": "Host", "port": "Port", "login": "User", "schema": "Database"}
_TOKENS = {"token": "Bearer token", "api_key": "API key"}

KIND_FORMS: dict[str, KindForm] = {
    ConnectionKind.POSTGRES: KindForm("PostgreSQL", _DATABASE, "Password", default_port=5432),
    ConnectionKind.MYSQL: KindForm("MySQL", _DATABASE, "Password", default_port=3306),
    ConnectionKind.S3: KindForm(
        "S3 (object store)", {"host": "Endpoint host (empty: AWS)", "schema": "Bucket"}, "Password (unused by S3)",
        extra_keys={"aws_access_key_id": "Access key id", "region_name": "Region"},
        secret_extra_labels={"aws_secret_access_key": "Secret access key", "aws_session_token": "Session token"}),
    ConnectionKind.HTTP: KindForm(
        "HTTP API", {"host": "Base URL or host", "port": "Port", "login": "User (basic auth)"}, "Password (basic auth)",
        secret_extra_labels=_TOKENS),
    ConnectionKind.GENERIC: KindForm(
        "Generic", {"host": "Host", "port": "Port", "login": "Login", "schema": "Schema"}, "Password",
        secret_extra_labels=_TOKENS, free_extra=True),
}


def kind_forms() -> list[dict]:
    """Every kind's form, secret fields named as the API names them (`secret_fields`)."""
    out = []
    for kind in ConnectionKind:
        form = KIND_FORMS[kind]
        labels = {"secret": form.secret_label} | {f"extra.{k}": form.secret_extra_labels.get(k, k)
                                                   for k in secret_extra_keys(kind)}
        out.append({
            "kind": kind.value, "label": form.label, "default_port": form.default_port, "free_extra": form.free_extra,
            "fields": [{"name": n, "label": label} for n, label in form.fields.items()],
            "extra_keys": [{"name": n, "label": label} for n, label in form.extra_keys.items()],
            "secret_fields": [{"name": n, "label": labels[n]} for n in secret_fields(kind)],
        })
    return out
