"""Re-encrypt every connection's secrets with the first key of LOOM_ENCRYPTION_KEY."""
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenancy.crypto import InvalidToken, rotate
from tenancy.kinds import secret_extra_keys
from tenancy.models import Connection
from tenancy.signals import other_secrets_rotate, secrets_rotated


class Command(BaseCommand):
    help = ("Re-encrypt every connection's secrets with the first key of LOOM_ENCRYPTION_KEY (set it to "
            "'new,old' first), so the old key can then be removed. All or nothing: a secret no key "
            "decrypts fails the command, naming its connection, and nothing changes. Secret keys of "
            "`extra` stored in plain text (saved before their kind declared them) are encrypted too.")

    def handle(self, *args, **options):
        with transaction.atomic():
            rows = list(Connection.objects.select_for_update().select_related("tenant").order_by("pk"))
            changed = []
            for conn in rows:
                try:
                    plain = {k: conn.extra.pop(k) for k in secret_extra_keys(conn.kind)
                             if isinstance(conn.extra, dict) and isinstance(conn.extra.get(k), str)}
                    if plain:
                        conn.set_secrets(secret=conn.get_secret(), extra=conn.get_secret_extra() | plain)
                    elif conn.secret_encrypted:
                        conn.secret_encrypted = rotate(bytes(conn.secret_encrypted))
                    else:
                        continue
                except InvalidToken:
                    raise CommandError(f"The secrets of connection {conn.tenant.slug}/{conn.name} cannot be decrypted "
                                       "with any key of LOOM_ENCRYPTION_KEY; nothing was changed.") from None
                changed.append(conn)
            # update(), not save(): re-encrypting is not an edit, so updated_at stays.
            for conn in changed:
                Connection.objects.filter(pk=conn.pk).update(secret_encrypted=conn.secret_encrypted, extra=conn.extra)
                secrets_rotated.send(sender=Connection, connection=conn)
            others = sum(count for _, count in other_secrets_rotate.send(sender=None))
        self.stdout.write(f"Re-encrypted the secrets of {len(changed)} connection(s) with the first key"
                          + (f", and {others} other secret(s)." if others else "."))
