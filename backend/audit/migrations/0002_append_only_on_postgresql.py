"""On PostgreSQL the database itself refuses to change or delete an audit entry, whatever the
client (a raw SQL UPDATE, a psql session). The exception is retention: `audit.services.audit_prune`
sets `loom.audit_prune` for its own transaction (SET LOCAL) and its DELETE goes through.
TRUNCATE is left to the table's owner (Django's test flush uses it). SQLite has no such setting:
there, the model refuses (audit.models), and the database does not."""
from django.db import migrations

CREATE = """
CREATE FUNCTION loom_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('loom.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION loom_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS loom_audit_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses a literal %
    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_entries")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
