"""Stored graphs' nodes carry reuse_kernel (default false), added to the defaults since 0005."""
import importlib

from django.db import migrations

normalize = importlib.import_module("workflows.migrations.0002_normalize_graphs").normalize


class Migration(migrations.Migration):
    dependencies = [("workflows", "0005_normalize_graphs_alert_rules")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
