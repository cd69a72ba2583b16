from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Start Celery beat with django-celery-beat's database schedule: it sends the scheduler's tick "
            "(schedules.tick) every LOOM_SCHEDULER_TICK_S to the workers. More than one may run: only the "
            "holder of the scheduler lease acts on a tick.")

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", "-l", default="INFO")

    def handle(self, *args, loglevel, **options):
        from loom.celery import app

        app.Beat(loglevel=loglevel, scheduler="django_celery_beat.schedulers:DatabaseScheduler",
                 max_interval=1).run()
