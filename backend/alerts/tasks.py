"""The Celery task of alerts: one attempt of one delivery (alerts.services)."""
from celery import shared_task

from alerts import services


@shared_task(name=services.DELIVER, ignore_result=True)
def alert_deliver_task(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="alerts.deliveries_resend", ignore_result=True)
def alert_deliveries_resend_task() -> None:
    """For a periodic schedule (Celery beat): send again the messages of overdue pending deliveries."""
    services.deliveries_resend()
