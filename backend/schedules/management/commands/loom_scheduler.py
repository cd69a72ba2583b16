from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

TICK_ENTRY = "loom-scheduler-tick"  # CELERY_BEAT_SCHEDULE's entry, a PeriodicTask row of django-celery-beat


class Command(BaseCommand):
    help = ("Start Celery beat with django-celery-beat's database schedule: it sends the scheduler's tick "
            "(schedules.tick) every LOOM_SCHEDULER_TICK_S to the workers. More than one may run: only the "
            "holder of the scheduler lease acts on a tick. --check: exit 1 unless a beat sent a tick lately "
            "(the container's healthcheck).")

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", "-l", default="INFO")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, loglevel, check, **options):
        if check:
            from django_celery_beat.models import PeriodicTask

            task = PeriodicTask.objects.filter(name=TICK_ENTRY).first()
            stale = timezone.now() - timedelta(seconds=max(60.0, 10 * settings.LOOM_SCHEDULER_TICK_S))
            if task is None or task.last_run_at is None or task.last_run_at < stale:
                raise CommandError(f"No scheduler tick sent since {task.last_run_at if task else 'ever'}.")
            return
        from loom.celery import app

        app.Beat(loglevel=loglevel, scheduler="django_celery_beat.schedulers:DatabaseScheduler",
                 max_interval=1).run()
