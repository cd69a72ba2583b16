"""Signals runs sends, so that apps built on runs (alerts) take part without runs importing them."""
import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# Sent with `run` (sender: the Run class) once a run reaches its final status on either engine
# (finished, failed or cancelled), after the transaction that wrote it commits. A repaired run that
# finishes again sends it again.
run_finished = Signal()


def run_finished_send(run) -> None:
    """Send run_finished for `run` when the current transaction commits (at once outside one).
    A receiver that raises is logged, never the finishing engine's error."""
    def send():
        for receiver, result in run_finished.send_robust(sender=type(run), run=run):
            if isinstance(result, Exception):
                log.error("run %s: run_finished receiver %s failed", run.pk, receiver, exc_info=result)

    transaction.on_commit(send)
