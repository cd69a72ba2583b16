"""Stored graphs carry the workflow's alert rules ("alerts", default []), added to the defaults since 0004."""
import importlib

from django.db import migrations

normalize = importlib.import_module("workflows.migrations.0002_normalize_graphs").normalize


class Migration(migrations.Migration):
    dependencies = [("workflows", "0004_normalize_graphs_again")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
