"""The Celery tasks of alerts: one attempt of one delivery, and the periodic ones of beat (alerts.services)."""
from celery import shared_task

from alerts import services


@shared_task(name=services.DELIVER, ignore_result=True)
def alert_deliver_task(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="alerts.deliveries_resend", ignore_result=True)
def alert_deliveries_resend_task() -> None:
    """For a periodic schedule (Celery beat): send again the messages of overdue pending deliveries."""
    services.deliveries_resend()


@shared_task(name="alerts.durations_check", ignore_result=True, expires=30)
def alert_durations_check_task() -> None:
    """For a periodic schedule (Celery beat): duration alerts of the runs still going past their rules."""
    services.duration_deliveries_create()
