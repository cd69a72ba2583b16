"""Signals tenancy sends, so apps built on it can take part without tenancy importing them."""
from django.dispatch import Signal

# Sent with `tenant` and `names` (connection names); each receiver returns {name: [what uses it]}
# (workflows, say), leaving out names nothing uses. A connection in use is not deleted (409).
connection_users = Signal()

# Sent with `connection` for each connection `manage.py rotate_encryption_key` re-encrypted (its
# secrets are the same, their encryption is new), inside the command's transaction.
secrets_rotated = Signal()

# Sent by `manage.py rotate_encryption_key` inside its transaction, after the connections: each
# receiver re-encrypts the secrets its app keeps with tenancy.crypto (alerts' channels, say) and
# returns how many rows it changed; raising CommandError (naming the row) rolls everything back.
other_secrets_rotate = Signal()
