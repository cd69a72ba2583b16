from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What operators and orchestrators ask a Loom process: /healthz, /readyz, /metrics
    (docs/production.md). On top of every other app: it reads runs, deployments and the broker."""

    name = "ops"
