"""The prune bypass of migration 0002 let any session that set `loom.audit_prune` delete any entry.
Now the trigger lets a DELETE through only for entries older than the retention the database
itself holds: `loom_audit_retention_days()`, a function only the table's owner can replace (Loom
does, from LOOM_AUDIT_RETENTION_DAYS, at every `manage.py migrate`: audit.receivers). Setting the
bypass no longer reaches an entry younger than that."""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION loom_audit_retention_days() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 365 $$;
CREATE OR REPLACE FUNCTION loom_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('loom.audit_prune', true) = 'on'
            AND OLD.at < now() - make_interval(days => loom_audit_retention_days()) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""
DROP = """
CREATE OR REPLACE FUNCTION loom_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('loom.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
DROP FUNCTION IF EXISTS loom_audit_retention_days();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses a literal %
    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_on_postgresql")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
