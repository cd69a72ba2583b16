import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenancy', '0002_tenant_limits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('tenant_slug', models.CharField(blank=True, default='', max_length=40)),
                ('actor_kind', models.CharField(max_length=10)),
                ('actor', models.CharField(help_text="The user's username, or the actor kind.", max_length=150)),
                ('address', models.GenericIPAddressField(blank=True, help_text="The client's address, for requests.", null=True)),
                ('action', models.CharField(max_length=40)),
                ('object_type', models.CharField(blank=True, default='', max_length=40)),
                ('object_id', models.CharField(blank=True, default='', max_length=64)),
                ('object_label', models.CharField(blank=True, default='', max_length=300)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField(blank=True, null=True)),
                ('actor_user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('tenant', models.ForeignKey(blank=True, db_constraint=False, help_text='Empty for logins and the like.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tenancy.tenant')),
            ],
            options={
                'verbose_name_plural': 'audit entries',
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['tenant', '-id'], name='audit_tenant_newest'), models.Index(fields=['object_type', 'object_id'], name='audit_object')],
            },
        ),
    ]
