"""Signals the catalog sends, so apps built on it can take part without the catalog importing them."""
from django.dispatch import Signal

# Sent with `notebook` to learn what runs it; each receiver returns a list of usages (dicts shaped as
# catalog.selectors.notebook_usage_get says). One whose latest version runs it refuses a delete.
notebook_users = Signal()
