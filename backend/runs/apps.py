from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from runs import receivers  # noqa: F401 - cancels the Airflow runs of an undeployed workflow
        from runs import worker  # noqa: F401 - connects the Celery worker signals (kernel pool, reaper)
