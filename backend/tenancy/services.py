from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from loom.errors import Conflict, FieldsInvalid, Forbidden
from loom.roles import is_platform_admin
from tenancy.kinds import SECRET_MIN_LENGTH, secret_extra_keys
from tenancy.models import PLATFORM_FIELDS, Connection, Membership, Role, Tenant
from tenancy.signals import connection_users

User = get_user_model()


@transaction.atomic  # with its audit entry, or not at all
def tenant_create(*, slug: str, name: str, **fields) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise FieldsInvalid({"slug": [f"A tenant '{slug}' already exists."]})
    tenant = Tenant(slug=slug, name=name, **fields)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def tenant_open(*, slug: str, name: str, description: str = "", admin_username: str, admin_password: str | None = None,
                admin_email: str = "") -> Tenant:
    """A new tenant with its first admin (an existing user, or a new one when a password is given):
    both or neither."""
    tenant = tenant_create(slug=slug, name=name, description=description)
    try:
        member_add(tenant=tenant, username=admin_username, role=Role.ADMIN, password=admin_password, email=admin_email)
    except FieldsInvalid as e:  # name the fields as the request did
        raise FieldsInvalid({f"admin_{k}": v for k, v in e.fields.items()}) from None
    return tenant


@transaction.atomic
def tenant_update(*, tenant: Tenant, user, data: dict) -> Tenant:
    """Change a tenant's settings. Limits and fairness (PLATFORM_FIELDS) are the platform admin's:
    a tenant admin changing one gets 403 naming them (sending a field's current value is no change)."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    changed = [f for f in PLATFORM_FIELDS if f in data and data[f] != getattr(tenant, f)]
    if changed and not is_platform_admin(user):
        raise Forbidden(f"Only platform admins change {', '.join(changed)}.", fields=changed)
    for field, value in data.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    tenant.save()
    return tenant


def tenant_activate(*, tenant: Tenant, active: bool) -> Tenant:
    """Deactivate (its members can no longer open it) or activate a tenant; nothing is deleted.
    What of it still runs is stopped by ops.services.tenant_activate, which calls this."""
    tenant.is_active = active
    tenant.save()
    return tenant


class TenantInactive(Conflict):
    """Nothing of a deactivated tenant starts (409), not even for a platform admin, who may open it."""


def tenant_active_check(tenant: Tenant) -> None:
    """Raise TenantInactive unless the tenant is active: every way of starting work asks here."""
    if not tenant.is_active:
        raise TenantInactive(f"The tenant '{tenant.slug}' is deactivated: nothing of it runs until a platform "
                             "admin activates it again.")


@transaction.atomic
def member_add(*, tenant: Tenant, username: str, role: str, password: str | None = None, email: str = "") -> Membership:
    """Add an existing user to the tenant, or create the user when a password is given."""
    user = User.objects.filter(username=username).first()
    if user is None:
        if not password:
            raise FieldsInvalid({"username": [f"No user '{username}'. Give a password to create one."]})
        try:
            password_validation.validate_password(password, User(username=username, email=email))
        except DjangoValidationError as e:
            raise FieldsInvalid({"password": e.messages})
        user = User.objects.create_user(username=username, password=password, email=email)
    elif password:
        # A tenant admin must not be able to reset the password of someone in another tenant.
        raise FieldsInvalid({"password": [f"User '{username}' already exists; add them without a password."]})
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise FieldsInvalid({"username": [f"'{username}' is already a member of this tenant."]})
    return Membership.objects.create(tenant=tenant, user=user, role=role)


def _ensure_another_admin(membership: Membership) -> None:
    """409 unless the tenant keeps an admin without `membership`. Locks the tenant's admin rows
    (FOR UPDATE), so two demotions of its last two admins at once run one after the other and
    the second sees a single admin left (SQLite's IMMEDIATE transactions serialize them anyway)."""
    admins = set(Membership.objects.select_for_update().filter(tenant_id=membership.tenant_id, role=Role.ADMIN)
                 .values_list("pk", flat=True))
    membership.refresh_from_db(fields=["role"])
    if membership.role == Role.ADMIN and not admins - {membership.pk}:
        raise Conflict("A tenant needs at least one admin; make someone else admin first.")


@transaction.atomic
def member_update(*, membership: Membership, role: str) -> Membership:
    if role != Role.ADMIN:
        _ensure_another_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    _ensure_another_admin(membership)
    membership.delete()


CONNECTION_FIELDS = ("name", "kind", "description", "host", "port", "login", "schema", "extra")


@transaction.atomic
def connection_save(*, tenant: Tenant, connection: Connection | None = None, data: dict) -> Connection:
    """Create or replace a connection. Secret fields (tenancy.kinds: `secret` and the kind's secret
    keys of `extra`) are encrypted, never stored in `extra`: absent keeps the stored value, ""
    clears it, anything else must be a string of at least SECRET_MIN_LENGTH characters."""
    connection = connection or Connection(tenant=tenant)
    for field in CONNECTION_FIELDS:
        if field in data:
            setattr(connection, field, data[field])
    given = {"secret": data["secret"] or ""} if "secret" in data else {}
    if isinstance(connection.extra, dict):
        extra = dict(connection.extra)
        given |= {f"extra.{key}": extra.pop(key) for key in secret_extra_keys(connection.kind) if key in extra}
        connection.extra = extra
    if given:
        _check_secrets(given)
        secret = given.pop("secret", connection.get_secret())
        stored = connection.get_secret_extra() | {f.removeprefix("extra."): v for f, v in given.items()}
        connection.set_secrets(secret=secret, extra=stored)
    clash = Connection.objects.filter(tenant=tenant, name=connection.name).exclude(pk=connection.pk)
    if clash.exists():
        raise FieldsInvalid({"name": [f"A connection '{connection.name}' already exists."]})
    connection.full_clean()
    connection.save()
    return connection


class ConnectionInUse(Conflict):
    """A connection that workflows still name cannot be deleted (409 listing them)."""

    def __init__(self, name: str, workflows: list[str]):
        self.workflows = workflows
        super().__init__(f"The connection '{name}' is used by workflows: {', '.join(workflows)}. "
                         "Remove it from their nodes first.")

    def body(self) -> dict:
        return {"detail": str(self), "workflows": self.workflows}


def connection_users_of(*, tenant: Tenant, names) -> dict[str, list[str]]:
    """{connection name: what uses it} from the receivers of `connection_users` (workflows, say)."""
    used: dict[str, list[str]] = {}
    for _, answer in connection_users.send(sender=Connection, tenant=tenant, names=list(names)):
        for name, users in answer.items():
            used.setdefault(name, []).extend(users)
    return used


def connection_check_deletable(*, connection: Connection) -> None:
    """ConnectionInUse while a workflow's latest version still names the connection."""
    users = connection_users_of(tenant=connection.tenant, names=[connection.name]).get(connection.name)
    if users:
        raise ConnectionInUse(connection.name, users)


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    connection_check_deletable(connection=connection)
    connection.delete()


def _check_secrets(given: dict) -> None:
    """Refuse secrets too short to scrub safely (a short one would be replaced all over the outputs)."""
    errors = {}
    for name, value in given.items():
        if not isinstance(value, str):
            errors[name] = [f"{name} is a secret: give a string (or \"\" to clear it)."]
        elif value and len(value) < SECRET_MIN_LENGTH:
            errors[name] = [f"{name} is a secret: use at least {SECRET_MIN_LENGTH} characters (or \"\" to clear it)."]
    if errors:
        raise FieldsInvalid(errors)
