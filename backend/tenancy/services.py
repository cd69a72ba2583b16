from django.contrib.auth import get_user_model
from django.db import transaction

from loom.errors import FieldsInvalid
from tenancy.models import Connection, Membership, Role, Tenant

User = get_user_model()


def tenant_create(*, slug: str, name: str, concurrency_quota: int = 8) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise FieldsInvalid({"slug": [f"A tenant '{slug}' already exists."]})
    tenant = Tenant(slug=slug, name=name, concurrency_quota=concurrency_quota)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def member_add(*, tenant: Tenant, username: str, role: str, password: str | None = None, email: str = "") -> Membership:
    """Add an existing user to the tenant, or create the user when a password is given."""
    user = User.objects.filter(username=username).first()
    if user is None:
        if not password:
            raise FieldsInvalid({"username": [f"No user '{username}'. Give a password to create one."]})
        user = User.objects.create_user(username=username, password=password, email=email)
    elif password:
        # A tenant admin must not be able to reset the password of someone in another tenant.
        raise FieldsInvalid({"password": [f"User '{username}' already exists; add them without a password."]})
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise FieldsInvalid({"username": [f"'{username}' is already a member of this tenant."]})
    return Membership.objects.create(tenant=tenant, user=user, role=role)


def _ensure_another_admin(membership: Membership) -> None:
    others = Membership.objects.filter(tenant=membership.tenant, role=Role.ADMIN).exclude(pk=membership.pk)
    if membership.role == Role.ADMIN and not others.exists():
        raise FieldsInvalid({"role": ["A tenant needs at least one admin; make someone else admin first."]})


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
    """Create or replace a connection. `secret` absent keeps the stored one; "" clears it."""
    connection = connection or Connection(tenant=tenant)
    for field in CONNECTION_FIELDS:
        if field in data:
            setattr(connection, field, data[field])
    if "secret" in data:
        connection.set_secret(data["secret"] or "")
    clash = Connection.objects.filter(tenant=tenant, name=connection.name).exclude(pk=connection.pk)
    if clash.exists():
        raise FieldsInvalid({"name": [f"A connection '{connection.name}' already exists."]})
    connection.full_clean()
    connection.save()
    return connection
