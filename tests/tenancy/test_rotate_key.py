"""manage.py rotate_encryption_key: rotate with `new,old`, then decrypt with `new` alone."""
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from tenancy import crypto
from tenancy.models import Connection, Tenant
from tenancy.services import connection_save


@pytest.fixture
def use_keys(settings):
    def use(*keys: bytes):
        settings.LOOM_ENCRYPTION_KEY = ",".join(k.decode() for k in keys)
        crypto.keys_changed()

    yield use
    crypto.keys_changed()  # settings are restored after the test; the cached keys with them


@pytest.fixture
def keys():
    return Fernet.generate_key(), Fernet.generate_key()


def run_rotate() -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    return out.getvalue()


def test_rotate_with_new_old_then_decrypt_with_new_alone(db, tenant, other_tenant, use_keys, keys):
    new, old = keys
    use_keys(old)
    connection_save(tenant=tenant, data={"name": "warehouse", "kind": "postgres", "secret": "pg-password-1"})
    connection_save(tenant=other_tenant, data={"name": "api", "kind": "http", "secret": "",
                                               "extra": {"token": "tok-abcdefgh", "verify": True}})
    connection_save(tenant=tenant, data={"name": "plain", "kind": "generic"})
    # A bare password, as stored before the JSON form of the secret fields.
    Connection.objects.create(tenant=tenant, name="older", secret_encrypted=crypto.encrypt("older-password"))
    before = {c.pk: c.updated_at for c in Connection.objects.all()}

    use_keys(new, old)
    assert "of 3 connection(s)" in run_rotate()

    use_keys(new)
    conns = {c.name: c for c in Connection.objects.all()}
    assert conns["warehouse"].get_secret() == "pg-password-1" and conns["older"].get_secret() == "older-password"
    assert conns["api"].get_secret_extra() == {"token": "tok-abcdefgh"} and conns["api"].extra == {"verify": True}
    assert {c.pk: c.updated_at for c in conns.values()} == before
    use_keys(old)
    with pytest.raises(crypto.InvalidToken):
        Connection.objects.get(name="warehouse").get_secret()


def test_a_secret_no_key_decrypts_fails_naming_it_and_changes_nothing(db, tenant, other_tenant, use_keys, keys):
    new, old = keys
    lost = Fernet.generate_key()
    use_keys(old)
    connection_save(tenant=tenant, data={"name": "first", "secret": "first-secret"})
    use_keys(lost)
    connection_save(tenant=other_tenant, data={"name": "orphan", "secret": "orphan-secret"})
    stored = {c.pk: bytes(c.secret_encrypted) for c in Connection.objects.all()}

    use_keys(new, old)
    with pytest.raises(CommandError, match="globex/orphan"):
        run_rotate()
    assert {c.pk: bytes(c.secret_encrypted) for c in Connection.objects.all()} == stored


def test_plain_secret_extra_keys_are_encrypted_by_the_rotation(db, tenant, use_keys, keys):
    new, old = keys
    use_keys(old)
    # As saved before the http kind declared `token` secret: in plain text in `extra`.
    Connection.objects.create(tenant=tenant, name="legacy", kind="http", extra={"token": "legacy-token", "x": 1})
    use_keys(new, old)
    assert "of 1 connection(s)" in run_rotate()
    use_keys(new)
    conn = Connection.objects.get(name="legacy")
    assert conn.extra == {"x": 1} and conn.get_secret_extra() == {"token": "legacy-token"}
    assert b"legacy-token" not in bytes(conn.secret_encrypted)


def test_a_rotation_is_in_the_audit_log_without_the_secret(db, tenant, use_keys, keys):
    from audit.models import AuditEntry

    new, old = keys
    use_keys(old)
    connection_save(tenant=tenant, data={"name": "warehouse", "kind": "postgres", "secret": "pg-password-1"})
    use_keys(new, old)
    run_rotate()
    [entry] = AuditEntry.objects.filter(action="connection.changed", object_label__contains="warehouse")
    assert (entry.actor_kind, entry.tenant_id) == ("system", tenant.pk)
    assert "re-encrypted" in entry.after["secrets"] and "pg-password-1" not in str(entry.after)
