"""Signals workflows sends, so that apps built on it take part in validation without workflows
importing them."""
from django.dispatch import Signal

# Sent with `tenant_id`; each receiver returns the names of the tenant's notification channels
# (alerts), which a graph's alert rules may name.
channel_names = Signal()


def tenant_channel_names(tenant_id: int) -> list[str]:
    return [name for _, names in channel_names.send(sender=None, tenant_id=tenant_id) for name in names or ()]
