"""The Celery task of tenancy, on the local engine's queue: thin, as in runs.tasks."""
from celery import shared_task

from tenancy import checks


@shared_task(name=checks.CONNECTION_TEST, ignore_result=True)
def connection_test_task(test_id: int) -> None:
    """Try the connection of a pending test from inside a notebook sandbox and record the answer."""
    checks.connection_test_perform(test_id=test_id)
