"""Gunicorn settings of Loom's web server (docs/production.md); gunicorn reads this file from
the working directory: `gunicorn loom.wsgi` from the checkout (or /app in the image).

Sync workers: Loom's requests are short database work (long waits happen in Celery workers), so
processes, not threads, use the cores; LOOM_WEB_WORKERS of them (default 2 per core + 1).
"""
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loom.settings")

wsgi_app = "loom.wsgi:application"
bind = os.environ.get("LOOM_WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("LOOM_WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1))
timeout = int(os.environ.get("LOOM_WEB_TIMEOUT_S", 60))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a slow leak cannot grow forever.
max_requests, max_requests_jitter = 2000, 200
# Load the app before forking: faster starts, and a broken configuration fails the master at once.
preload_app = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("LOOM_FORWARDED_ALLOW_IPS", "127.0.0.1")

if os.environ.get("LOOM_LOG_FORMAT") == "json":
    from loom.logs import JSON_FORMATTER

    # Gunicorn's own loggers (access and error) as JSON lines too, with the formatter Django uses.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": JSON_FORMATTER},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
                    "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }
