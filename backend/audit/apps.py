from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audit import receivers  # noqa: F401 - records tenancy's changes and failed logins
