"""Alerts take part in what runs, workflows and tenancy do through their signals: a finished run
makes its deliveries; a workflow's validation asks which channels the tenant has; rotating the
encryption key re-encrypts the channels' secrets."""
from django.core.management.base import CommandError
from django.dispatch import receiver

from alerts.models import Channel
from alerts.services import deliveries_create
from runs.signals import run_finished
from tenancy.crypto import InvalidToken, rotate
from tenancy.signals import other_secrets_rotate
from workflows.signals import channel_names


@receiver(run_finished)
def _run_finished(sender, run, **kwargs):
    deliveries_create(run=run)


@receiver(channel_names)
def _channel_names(sender, tenant_id, **kwargs):
    return list(Channel.objects.filter(tenant_id=tenant_id).values_list("name", flat=True))


@receiver(other_secrets_rotate)
def _rotate(sender, **kwargs) -> int:
    """Channels' webhook secrets, re-encrypted with the first key (update(): no edit, no audit entry)."""
    rows = list(Channel.objects.select_for_update().exclude(secret_encrypted=b"").select_related("tenant"))
    for channel in rows:
        try:
            token = rotate(bytes(channel.secret_encrypted))
        except InvalidToken:
            raise CommandError(f"The secret of channel {channel.tenant.slug}/{channel.name} cannot be decrypted "
                               "with any key of LOOM_ENCRYPTION_KEY; nothing was changed.") from None
        Channel.objects.filter(pk=channel.pk).update(secret_encrypted=token)
    return len(rows)
