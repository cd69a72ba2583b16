from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from deployments import receivers  # noqa: F401 - keeps Airflow in step with tenants, connections, workflows
