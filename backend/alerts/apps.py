from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from alerts import receivers  # noqa: F401 - connects run_finished, workflows' and audit's signals
