"""Writing the audit log: `record`, called by the services of each app in the transaction of the
change it records (so a change that fails records nothing), and retention."""
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.models import ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone

from audit.context import current_request
from audit.models import Action, ActorKind, AuditEntry
from web.logins import client_ip

__all__ = ["Action", "ActorKind", "RetentionTooShort", "audit_prune", "audit_retention_sync", "record"]

MASK = "********"
_MAX_TEXT = 500  # characters of one string kept in a summary
_MAX_ITEMS = 50  # keys of a dict, or items of a list, kept in a summary
_MAX_DEPTH = 6

# How an object is named in the log, by model name (the apps' models, read without importing them).
_LABELS = {
    "workflow": lambda o: o.name,
    "run": lambda o: f"run {o.pk} of {o.workflow.name}",
    "deployment": lambda o: o.dag_id,
    "notebook": lambda o: o.name,
    "connection": lambda o: o.name,
    "channel": lambda o: o.name,
    "membership": lambda o: o.user.username,
    "tenant": lambda o: o.slug,
    "user": lambda o: o.get_username(),
    "invitation": lambda o: o.email,
    "apitoken": lambda o: f"{o.user.get_username()}/{o.name}",
}
_TYPES = {"membership": "member", "apitoken": "token"}


def record(action: str, *, tenant=None, obj=None, before: dict | None = None, after: dict | None = None,
           actor=None, object_type: str = "", object_id="", label: str = "",
           secrets: list[str] = ()) -> AuditEntry:
    """Append one entry. `obj` (a model instance) names the object, unless `object_type`/`object_id`/
    `label` do; `before`/`after` summarize the change (JSON; long values are cut). `actor` is a user,
    or an ActorKind for changes no person made (default: the request's user, else "system"). Every string
    of `secrets` is masked wherever it appears in the entry, as a last guard: summaries are built
    without secret values in the first place."""
    if obj is not None:
        model = obj._meta.model_name
        object_type = object_type or _TYPES.get(model, model)
        object_id = object_id or obj.pk
        label = label or _label(model, obj)
    request = current_request()
    if hasattr(actor, "get_username"):  # a user named by the caller
        user, actor = actor, None
    else:
        user = getattr(request, "user", None) if actor is None else None
    if user is not None and user.is_authenticated:
        kind, name = ActorKind.USER, user.get_username()
    else:
        user = None
        kind = actor or (ActorKind.ANONYMOUS if request is not None else ActorKind.SYSTEM)
        name = str(kind)
    mask = _masker([s for s in secrets if s])
    return AuditEntry.objects.create(
        tenant=tenant, tenant_slug=getattr(tenant, "slug", ""), actor_kind=kind, actor_user=user, actor=name[:150],
        address=(client_ip(request) or None) if request is not None else None, action=action,
        object_type=object_type, object_id=str(object_id)[:64], object_label=mask(str(label))[:300],
        before=_bounded(before, mask), after=_bounded(after, mask),
    )


def _label(model: str, obj) -> str:
    try:
        return str(_LABELS[model](obj)) if model in _LABELS else str(obj)
    except Exception:  # noqa: BLE001 - a related row already gone (a cascade): the id still names it
        return f"{model} {obj.pk}"


def _masker(secrets: list[str]):
    def mask(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
    return mask


def _bounded(value, mask, depth: int = 0):
    """The summary as JSON, with secrets masked and long strings, lists and dicts cut."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return "…"
        items = list(value.items())
        kept = {mask(str(k))[:_MAX_TEXT]: _bounded(v, mask, depth + 1) for k, v in items[:_MAX_ITEMS]}
        if len(items) > _MAX_ITEMS:
            kept["…"] = f"{len(items) - _MAX_ITEMS} more"
        return kept
    if isinstance(value, (list, tuple, set, frozenset)):
        if depth >= _MAX_DEPTH:
            return "…"
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        kept = [_bounded(v, mask, depth + 1) for v in items[:_MAX_ITEMS]]
        return kept + ([f"… {len(items) - _MAX_ITEMS} more"] if len(items) > _MAX_ITEMS else [])
    text = mask(str(value))
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


# PostgreSQL's trigger (migrations 0002, 0003) lets a DELETE through only in a transaction that set
# this, and only of entries older than the retention the database holds (audit_retention_sync).
PRUNE_SETTING = "loom.audit_prune"


class RetentionTooShort(ValueError):
    """Pruning newer entries than LOOM_AUDIT_RETENTION_DAYS allows."""


def audit_prune(*, days: int | None = None) -> int:
    """Delete the entries older than `days` (LOOM_AUDIT_RETENTION_DAYS by default, never fewer);
    returns how many. The one deletion of audit entries there is: Django's own QuerySet.delete,
    which AuditQuerySet refuses to everyone else. The cutoff is the database's clock, which the
    trigger reads too."""
    retention = settings.LOOM_AUDIT_RETENTION_DAYS
    days = retention if days is None else days
    if days < retention:
        raise RetentionTooShort(f"Entries are kept {retention} days (LOOM_AUDIT_RETENTION_DAYS); to keep fewer, "
                                "lower it and run manage.py migrate, which gives PostgreSQL's trigger the new retention.")
    cutoff = ExpressionWrapper(Now() - timedelta(days=days), output_field=models.DateTimeField())
    with transaction.atomic():
        _allow_delete("on")
        deleted = models.QuerySet.delete(AuditEntry.objects.filter(at__lt=cutoff))[0]
        _allow_delete("off")  # at once: called inside a larger transaction, the rest of it stays refused
    return deleted


def _allow_delete(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [PRUNE_SETTING, value])


def audit_retention_sync(using: str = "default") -> None:
    """Give PostgreSQL's trigger LOOM_AUDIT_RETENTION_DAYS: entries younger than it cannot be deleted
    there, bypass or not. DDL, so only the table's owner may (Loom runs it at every migrate)."""
    conn = connections[using]
    if conn.vendor == "postgresql":
        days = int(settings.LOOM_AUDIT_RETENTION_DAYS)
        if days < 0:
            raise ValueError(f"LOOM_AUDIT_RETENTION_DAYS must be 0 or more, not {days}.")
        with conn.cursor() as cursor:
            cursor.execute("CREATE OR REPLACE FUNCTION loom_audit_retention_days() RETURNS integer "
                           f"LANGUAGE sql STABLE AS $$ SELECT {days} $$")  # an int: no injection
