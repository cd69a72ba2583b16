"""Database writes that survive a dropped connection, for worker threads that live long.

A web request gets a checked connection each time (CONN_HEALTH_CHECKS); a worker thread that
holds one for minutes (a heartbeat, a task recording its result) must notice a dropped one
itself: close it, and try again on a new one.
"""
import logging
import time
from typing import Callable, TypeVar

from django.db import Error, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
# What a new connection can cure: the server closed ours, restarted, or failed over.
TRANSIENT = (OperationalError, InterfaceError)


def connection_drop() -> None:
    """Close this thread's connection, broken or not; the next query opens a new one."""
    try:
        connection.close()
    except Error:
        pass  # closing a dead connection may fail; Django forgets it either way


def db_retry(fn: Callable[[], T], *, what: str, budget_s: float = 60) -> T:
    """fn(), called again on a new connection after a transient database error, with a pause
    growing from 0.1 s to 5 s, for at most `budget_s`; then, and on any other error, it raises.

    fn must be a whole transaction (or autocommit writes) that is safe to repeat; never call
    this inside an atomic block.
    """
    delay, deadline = 0.1, time.monotonic() + budget_s
    while True:
        try:
            return fn()
        except TRANSIENT as e:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database error (%s); again on a new connection in %.1f s", what, e, delay)
            connection_drop()
            time.sleep(delay)
            delay = min(delay * 2, 5)
