"""Tenancy's changes, API tokens and failed logins, recorded from Django's signals.

Tenancy is the app every other one builds on, so it cannot call `audit.record` (audit's API
needs tenancy's scoping): its models' save and delete signals are heard here instead. That also
covers every path that changes them: the API, invitations, Django's admin site, management
commands. The signals fire inside the transaction of the change, so a change rolled back leaves
no entry. Connection summaries name the secret fields that changed ("set", "replaced",
"cleared"), never their values. API tokens (accounts) are heard the same way, so that the
tokens app needs no change; their entries belong to no tenant. And each `migrate` hands
PostgreSQL's append-only trigger the retention it enforces (audit.services.audit_retention_sync).
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_migrate, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import ApiToken
from audit.context import current_request
from audit.models import Action, ActorKind
from audit.services import audit_retention_sync, record
from tenancy.kinds import secret_extra_keys
from tenancy.models import Connection, Invitation, Membership, Tenant
from tenancy.signals import secrets_rotated

_ACTIONS = {  # created, changed, deleted
    Tenant: (Action.TENANT_CREATED, Action.TENANT_CHANGED, Action.TENANT_DELETED),
    Membership: (Action.MEMBER_ADDED, Action.MEMBER_CHANGED, Action.MEMBER_REMOVED),
    Connection: (Action.CONNECTION_CREATED, Action.CONNECTION_CHANGED, Action.CONNECTION_DELETED),
    Invitation: (Action.INVITATION_CREATED, Action.INVITATION_ACCEPTED, Action.INVITATION_REVOKED),
}
# Never shown: ids, timestamps of the row itself, and what a secret is made of (an encrypted secret,
# an invitation link's hash).
_NOT_SHOWN = {"id", "tenant_id", "created_at", "updated_at", "secret_encrypted", "token_sha256"}
_USERS = {"user_id": "user", "invited_by_id": "invited_by", "accepted_by_id": "accepted_by"}


def _fields(obj) -> dict:
    """What an entry shows of a row: its own fields, a member's username, no secret."""
    shown = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in _NOT_SHOWN}
    for attname, name in _USERS.items():  # users by username
        if attname in shown:
            shown.pop(attname)
            shown[name] = getattr(obj, name).get_username() if getattr(obj, attname) else None
    if isinstance(obj, Connection):
        secret = set(secret_extra_keys(obj.kind))
        shown["extra"] = {k: v for k, v in (obj.extra or {}).items() if k not in secret} if isinstance(obj.extra, dict) else {}
    return shown


def _secrets(connection) -> dict[str, str]:
    """{"secret" / "extra.<key>": value} of the connection's stored secret fields (empty ones left out)."""
    try:
        found = {"secret": connection.get_secret(),
                 **{f"extra.{k}": v for k, v in connection.get_secret_extra().items()}}
    except Exception:  # noqa: BLE001 - a key no longer decrypts it: say set, compare by ciphertext
        found = {"secret": bytes(connection.secret_encrypted)} if connection.secret_encrypted else {}
    # A key the kind declares but the row still holds in plain `extra` (kinds.py) is a secret too.
    extra = connection.extra if isinstance(connection.extra, dict) else {}
    found |= {f"extra.{k}": extra[k] for k in secret_extra_keys(connection.kind) if extra.get(k)}
    return {k: v for k, v in found.items() if v}


def _secret_changes(old: dict, new: dict) -> dict[str, str]:
    changes = {}
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            changes[name] = "set"
        elif name not in new:
            changes[name] = "cleared"
        elif old[name] != new[name]:
            changes[name] = "replaced"
    return changes


def _masked(*secret_maps: dict) -> list[str]:
    return [v for m in secret_maps for v in m.values() if isinstance(v, str)]


@receiver(pre_save, sender=Tenant)
@receiver(pre_save, sender=Membership)
@receiver(pre_save, sender=Connection)
@receiver(pre_save, sender=Invitation)
def _keep_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    instance._audit_before = sender.objects.filter(pk=instance.pk).first()


@receiver(post_save, sender=Tenant)
@receiver(post_save, sender=Membership)
@receiver(post_save, sender=Connection)
@receiver(post_save, sender=Invitation)
def _saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata
        return
    old = instance.__dict__.pop("_audit_before", None)
    tenant = instance if sender is Tenant else instance.tenant
    new_secrets = _secrets(instance) if sender is Connection else {}
    if created or old is None:
        after = _fields(instance) | {name: "set" for name in new_secrets}
        record(_ACTIONS[sender][0], tenant=tenant, obj=instance, after=after, secrets=_masked(new_secrets),
               actor=_joining(sender, instance))
        return
    before_fields, after_fields = _fields(old), _fields(instance)
    changed = [k for k in after_fields if before_fields.get(k) != after_fields[k]]
    before = {k: before_fields.get(k) for k in changed}
    after = {k: after_fields[k] for k in changed}
    old_secrets = _secrets(old) if sender is Connection else {}
    after |= _secret_changes(old_secrets, new_secrets)
    if after:  # saving a row unchanged is no change
        record(_ACTIONS[sender][1], tenant=tenant, obj=instance, before=before, after=after,
               secrets=_masked(old_secrets, new_secrets), actor=_joining(sender, instance))


@receiver(secrets_rotated)
def _rotated(sender, connection, **kwargs):
    """Re-encrypting with a new key is no edit of the connection (updated_at stays), but it is an action."""
    record(_ACTIONS[Connection][1], tenant=connection.tenant, obj=connection,
           after={"secrets": "re-encrypted with the first key of LOOM_ENCRYPTION_KEY"},
           secrets=_masked(_secrets(connection)))


@receiver(post_delete, sender=Tenant)
@receiver(post_delete, sender=Membership)
@receiver(post_delete, sender=Connection)
@receiver(post_delete, sender=Invitation)
def _deleted(sender, instance, **kwargs):
    tenant = instance if sender is Tenant else Tenant(pk=instance.tenant_id, slug=_slug(instance))
    secrets = _secrets(instance) if sender is Connection else {}
    try:
        before = _fields(instance)
    except Exception:  # noqa: BLE001 - a member whose user is being deleted with it
        before = {}
    before |= {name: "set" for name in secrets}
    record(_ACTIONS[sender][2], tenant=tenant, obj=instance, before=before, secrets=_masked(secrets))


def _joining(sender, instance):
    """Who acts when a member joins by a request without a login: the person signing up through an
    invitation link (the new member, who accepted the invitation)."""
    person = instance.user if sender is Membership else instance.accepted_by if sender is Invitation else None
    request = current_request()
    anonymous = request is not None and not getattr(getattr(request, "user", None), "is_authenticated", False)
    return person if anonymous else None


def _slug(instance) -> str:
    try:
        return instance.tenant.slug
    except Tenant.DoesNotExist:  # deleted with its tenant
        return ""


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    """A wrong password, an unknown username, or a try while locked out (django-axes refuses it
    the same way). The username is what was typed; the address is the client's. `locked_out`: this
    failure locked the account or address, or it was locked already (axes' receiver, connected
    first, has said so on the request)."""
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first() if username else None
    locked = bool(getattr(request, "axes_locked_out", False))
    record(Action.LOGIN_FAILED, actor=ActorKind.ANONYMOUS, object_type="user", object_id=user.pk if user else "",
           label=username, after={"username": username, "known_user": user is not None, "locked_out": locked})


def _token(token) -> dict:
    """What an entry shows of an API token: never its secret, digest or key prefix."""
    return {"name": token.name, "user": token.user.get_username(), "expiry": token.expiry}


@receiver(post_save, sender=ApiToken)
def _token_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:  # later saves only note when it was last used
        record(Action.TOKEN_CREATED, obj=instance, after=_token(instance), actor=_request_user_or(instance.user))


@receiver(post_delete, sender=ApiToken)
def _token_revoked(sender, instance, **kwargs):
    if instance.expiry is not None and instance.expiry <= timezone.now():
        return  # an expired token cleared away: it stopped working when it expired
    record(Action.TOKEN_REVOKED, obj=instance, before=_token(instance), actor=_request_user_or(instance.user))


def _request_user_or(user):
    """The request's user, else `user`: a token made by a password login is made by that person."""
    request = current_request()
    if request is not None and getattr(getattr(request, "user", None), "is_authenticated", False):
        return None
    return user if request is not None else None


@receiver(post_migrate)
def retention_synced(sender, using="default", **kwargs):
    """Each migrate gives PostgreSQL's append-only trigger the current LOOM_AUDIT_RETENTION_DAYS."""
    if sender.name == "audit":
        audit_retention_sync(using)
