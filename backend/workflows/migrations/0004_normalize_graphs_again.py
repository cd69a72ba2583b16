"""Stored graphs again carry every optional field: nodes' memory_mb, max_procs, max_failed_items and
max_failed_ratio, and global parameters' default and help were added to the defaults since 0002."""
import importlib

from django.db import migrations

normalize = importlib.import_module("workflows.migrations.0002_normalize_graphs").normalize


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_version_validation_kept")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
