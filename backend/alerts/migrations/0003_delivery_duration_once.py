from django.db import migrations, models


def _duplicates_drop(apps, schema_editor):
    """Before the constraint: a run that ended more than once (repaired) may have had a duration
    delivery per end; the first stays."""
    Delivery = apps.get_model("alerts", "Delivery")
    seen = set()
    extra = []
    for pk, run_id, channel_id in (Delivery.objects.filter(event="duration", run__isnull=False)
                                   .order_by("pk").values_list("pk", "run_id", "channel_id").iterator()):
        if (run_id, channel_id) in seen:
            extra.append(pk)
        seen.add((run_id, channel_id))
    Delivery.objects.filter(pk__in=extra).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0002_delivery_per_run_end'),
    ]

    operations = [
        migrations.RunPython(_duplicates_drop, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('event', 'duration'), ('run__isnull', False)), fields=('run', 'channel'), name='unique_duration_delivery'),
        ),
    ]
