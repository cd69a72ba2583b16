"""Stored graphs carry every optional field (workflows.graph.graph_normalize), so that readers
need not fill in defaults again. Versions saved since normalization moved to save time already
do; this brings older rows in line. A change of the defaults needs a migration like this one."""
from django.db import migrations

from workflows.graph import graph_normalize


def normalize(apps, schema_editor):
    WorkflowVersion = apps.get_model("workflows", "WorkflowVersion")
    for version in WorkflowVersion.objects.only("id", "graph").iterator(chunk_size=200):
        graph = graph_normalize(version.graph)
        if graph != version.graph:
            WorkflowVersion.objects.filter(pk=version.pk).update(graph=graph)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
