"""Entries are never changed or deleted, except by retention (manage.py prune_audit), which even on
PostgreSQL with its bypass set reaches no entry younger than the retention."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from audit.models import AppendOnly, AuditEntry
from audit.services import audit_retention_sync, record

on_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger is PostgreSQL's")


@pytest.fixture
def entry(tenant):
    return record("workflow.saved", tenant=tenant, object_type="workflow", object_id=1, label="w", after={"version": 2})


def test_the_orm_refuses_to_change_or_delete_an_entry(entry):
    entry.action = "workflow.deleted"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    for change in (lambda qs: qs.update(action="x"), lambda qs: qs.delete(),
                   lambda qs: AuditEntry.objects.bulk_update([entry], ["action"])):
        with pytest.raises(AppendOnly):
            change(AuditEntry.objects.filter(pk=entry.pk))
    assert AuditEntry.objects.get(pk=entry.pk).action == "workflow.saved"


@on_postgresql
def test_postgresql_refuses_update_and_delete_from_any_client(entry):
    table = AuditEntry._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "workflow.saved"


def _aged(tenant, days: float) -> AuditEntry:
    return AuditEntry.objects.create(tenant=tenant, tenant_slug=tenant.slug, actor_kind="system", actor="system",
                                     action="run.started", at=timezone.now() - timedelta(days=days))


def test_prune_deletes_entries_older_than_the_retention(tenant, settings, capsys):
    settings.LOOM_AUDIT_RETENTION_DAYS = 30
    audit_retention_sync()  # as manage.py migrate does
    old, older, recent = _aged(tenant, 31), _aged(tenant, 400), _aged(tenant, 29)
    call_command("prune_audit", "--days", "100")  # keeping more than the retention is fine
    assert capsys.readouterr().out == "Deleted 1 audit entries older than 100 days.\n"
    call_command("prune_audit")
    assert capsys.readouterr().out == "Deleted 1 audit entries older than 30 days.\n"
    remaining = set(AuditEntry.objects.values_list("pk", flat=True))
    assert recent.pk in remaining and not {old.pk, older.pk} & remaining
    for days in ("10", "-1"):  # fewer days than the retention: refused, whatever the database
        with pytest.raises(CommandError, match=r"kept 30 days \(LOOM_AUDIT_RETENTION_DAYS\)"):
            call_command("prune_audit", "--days", days)
    assert recent.pk in set(AuditEntry.objects.values_list("pk", flat=True))


def _delete_with_the_bypass(pk=None) -> int:
    """What any session could do: set the prune bypass by hand, then DELETE."""
    table = AuditEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL loom.audit_prune = 'on'")
        cursor.execute(f"DELETE FROM {table}" + (" WHERE id = %s" if pk else ""), [pk] if pk else None)
        return cursor.rowcount


@on_postgresql
def test_the_bypass_reaches_no_entry_younger_than_the_retention(tenant, settings):
    settings.LOOM_AUDIT_RETENTION_DAYS = 30
    audit_retention_sync()
    recent, old = _aged(tenant, 29), _aged(tenant, 31)
    for pk in (recent.pk, None):  # one young entry, or the whole table
        with pytest.raises(IntegrityError, match="append-only: DELETE refused"):
            _delete_with_the_bypass(pk)
    assert _delete_with_the_bypass(old.pk) == 1  # what retention would delete anyway
    assert AuditEntry.objects.filter(pk=recent.pk).exists()


@on_postgresql
def test_a_role_that_does_not_own_the_table_cannot_change_the_retention(tenant, settings):
    """The retention the trigger enforces is DDL: a role granted DELETE (a reporting or a second
    application role) can neither delete young entries nor shorten it. The owner can (it could drop
    the trigger too): docs/security.md, "Audit log"."""
    settings.LOOM_AUDIT_RETENTION_DAYS = 30
    audit_retention_sync()
    recent, old = _aged(tenant, 2), _aged(tenant, 40)
    table = AuditEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:  # roles too are rolled back
        cursor.execute("CREATE ROLE loom_test_clerk")
        cursor.execute(f"GRANT SELECT, DELETE ON {table} TO loom_test_clerk")
        cursor.execute("GRANT USAGE, CREATE ON SCHEMA public TO loom_test_clerk")  # even so
        cursor.execute("SET LOCAL ROLE loom_test_clerk")
        with pytest.raises(ProgrammingError, match="must be owner of function"), transaction.atomic():
            cursor.execute("CREATE OR REPLACE FUNCTION loom_audit_retention_days() RETURNS integer "
                           "LANGUAGE sql STABLE AS $$ SELECT 0 $$")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            cursor.execute("SET LOCAL loom.audit_prune = 'on'")
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [recent.pk])
        cursor.execute("SET LOCAL loom.audit_prune = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [old.pk])
        assert cursor.rowcount == 1
        cursor.execute("RESET ROLE")
    assert AuditEntry.objects.filter(pk=recent.pk).exists()


@on_postgresql
def test_migrate_gives_the_trigger_the_retention(db, settings):
    settings.LOOM_AUDIT_RETENTION_DAYS = 7
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT loom_audit_retention_days()")
        assert cursor.fetchone()[0] == 7


@on_postgresql
def test_prune_says_to_migrate_when_the_trigger_keeps_longer(tenant, settings):
    settings.LOOM_AUDIT_RETENTION_DAYS = 365
    audit_retention_sync()
    entry = _aged(tenant, 100)
    settings.LOOM_AUDIT_RETENTION_DAYS = 30  # lowered, but migrate not run since
    with pytest.raises(CommandError, match="Run manage.py migrate"):
        call_command("prune_audit")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@on_postgresql
def test_prune_passes_the_trigger_only_in_its_own_transaction(tenant, settings):
    from audit.services import audit_prune

    _aged(tenant, 500)
    assert audit_prune(days=365) == 1
    with connection.cursor() as cursor:  # the setting was local to that transaction
        cursor.execute("SELECT coalesce(current_setting('loom.audit_prune', true), '')")
        assert cursor.fetchone()[0] in ("", "off")
    entry = _aged(tenant, 500)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entry.pk])


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_prune_from_the_command_commits_and_leaves_the_trigger_on(tenant):
    """As cron runs it: no surrounding transaction. (Emptying the tables between such tests uses
    TRUNCATE, which the trigger leaves to the table's owner.)"""
    _aged(tenant, 500)
    call_command("prune_audit")
    assert not AuditEntry.objects.filter(at__lt=timezone.now() - timedelta(days=365)).exists()
    entry = _aged(tenant, 500)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entry.pk])
