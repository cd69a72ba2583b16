"""Entries are never changed or deleted, except by retention (manage.py prune_audit)."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AppendOnly, AuditEntry
from audit.services import record

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
    old, older, recent = _aged(tenant, 31), _aged(tenant, 400), _aged(tenant, 29)
    call_command("prune_audit")
    assert capsys.readouterr().out == "Deleted 2 audit entries older than 30 days.\n"
    remaining = set(AuditEntry.objects.values_list("pk", flat=True))
    assert recent.pk in remaining and not {old.pk, older.pk} & remaining
    call_command("prune_audit", "--days", "10")
    assert recent.pk not in set(AuditEntry.objects.values_list("pk", flat=True))
    assert AuditEntry.objects.exists()  # today's (the fixtures') stay
    with pytest.raises(CommandError, match="0 or more"):
        call_command("prune_audit", "--days", "-1")


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
