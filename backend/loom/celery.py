"""The Celery app of the local engine. Broker: Redis when REDIS_URL is set, else the embedded
filesystem broker (runs.broker). Results are not stored: run state lives in the database."""
import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

TRANSPORT_ALIASES.setdefault("loomfs", "runs.broker:Transport")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loom.settings")

app = Celery("loom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
