"""Signals tenancy sends, so apps built on it can take part without tenancy importing them."""
from django.dispatch import Signal

# Sent with `tenant` and `names` (connection names); each receiver returns {name: [what uses it]}
# (workflows, say), leaving out names nothing uses. A connection in use is not deleted (409).
connection_users = Signal()
