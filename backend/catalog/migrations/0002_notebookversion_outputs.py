"""Discovered outputs on notebook versions; existing versions are inspected once here."""
from django.db import migrations, models


def discover(apps, schema_editor):
    import nbformat

    from catalog.inspection import NotebookError, outputs_infer

    NotebookVersion = apps.get_model("catalog", "NotebookVersion")
    for version in NotebookVersion.objects.only("pk", "content", "language").iterator():
        try:
            found = outputs_infer(nbformat.reads(version.content, as_version=nbformat.NO_CONVERT), language=version.language)
        except (NotebookError, ValueError):
            continue  # an outputs cell that does not parse: nothing discovered, as before
        if found:
            NotebookVersion.objects.filter(pk=version.pk).update(outputs=[{"name": o.name, "type": o.type} for o in found])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(model_name="notebookversion", name="outputs", field=models.JSONField(default=list)),
        migrations.RunPython(discover, migrations.RunPython.noop),
    ]
