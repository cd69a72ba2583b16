"""Signals the catalog sends, so apps built on it can take part without the catalog importing them."""
from django.dispatch import Signal

# Sent before a notebook is deleted, with `notebook`; each receiver returns the names of what still
# uses it (a list, empty when nothing does). Any name refuses the delete with NotebookInUse.
notebook_users = Signal()
