from celery import shared_task

from schedules import scheduler

TICK = "schedules.tick"


@shared_task(name=TICK, ignore_result=True, expires=30)
def schedules_tick_task() -> None:
    """Start what schedules and backfills make due (only the holder of the scheduler lease acts)."""
    scheduler.schedules_tick()
