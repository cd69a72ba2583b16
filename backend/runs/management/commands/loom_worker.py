import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start a worker of the local engine: Celery with the threads pool and pre-started kernels."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", "-c", type=int, default=settings.LOOM_WORKER_CONCURRENCY,
                            help="Notebooks this worker runs at once (LOOM_WORKER_CONCURRENCY).")
        parser.add_argument("--loglevel", "-l", default="INFO")

    def handle(self, *args, concurrency, loglevel, **options):
        from loom.celery import app

        app.worker_main([
            "worker", "--pool", "threads", "--concurrency", str(concurrency),
            "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--hostname", f"loom-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", loglevel,
        ])
