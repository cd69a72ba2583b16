"""Each version keeps its validation problems (workflows.models.WorkflowVersion.validation), so a
read does not validate again. Existing versions start with None and are checked on first read."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0002_normalize_graphs'),
    ]

    operations = [
        migrations.AddField(
            model_name='workflowversion',
            name='validation',
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
