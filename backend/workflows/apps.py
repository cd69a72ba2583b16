from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"

    def ready(self):
        from workflows import receivers  # noqa: F401 - connects workflows' signal receivers
