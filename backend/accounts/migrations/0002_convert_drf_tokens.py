"""Before named tokens, Loom used DRF's tokens (app rest_framework.authtoken), stored in plain
text. Each becomes a hashed ApiToken, so scripts holding one keep working until it expires (the
default lifetime from now); then the plain-text table is dropped."""
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TABLE = "authtoken_token"


def convert(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    expiry = timezone.now() + timedelta(days=settings.LOOM_TOKEN_DEFAULT_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {TABLE}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], digest=hash_token(key), user_id=user_id, expiry=expiry,
                 name="token from before named tokens")
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {TABLE}")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_api_tokens")]
    operations = [migrations.RunPython(convert, migrations.RunPython.noop)]
