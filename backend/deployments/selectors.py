from datetime import datetime

from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from deployments.models import Deployment
from workflows import timetable
from workflows.models import VERSION_BULK, Workflow

# What a deployment shows of its version's graph: read by key, so a large graph stays in the database.
TIMING = ("schedule", "start_date", "catchup")


def deployment_get(*, workflow: Workflow) -> Deployment:
    """The workflow's deployment; Deployment.DoesNotExist saying so when it is not deployed."""
    try:
        return (Deployment.objects.select_related("version", "deployed_by", "tenant").defer(*VERSION_BULK)
                .annotate(**{f"graph_{key}": KeyTransform(key, "version__graph") for key in TIMING}).get(workflow=workflow))
    except Deployment.DoesNotExist:
        raise Deployment.DoesNotExist(f"Workflow '{workflow.name}' is not deployed.") from None


def deployment_next_runs(deployment: Deployment, *, now: datetime | None = None, count: int = 5) -> list[datetime]:
    """When the deployment's schedule fires next (none while paused or its tenant is deactivated)."""
    timing = deployment_timing(deployment)
    if deployment.schedule_paused or not timing["schedule"]:
        return []
    return timetable.next_fire_times(timing["schedule"], start_date=timing["start_date"] or "2026-01-01",
                                     now=now or timezone.now(), count=count)


def deployment_timing(deployment: Deployment) -> dict:
    """The version's schedule, start_date and catchup: deployment_get's annotations, else the graph."""
    if hasattr(deployment, "graph_schedule"):
        return {key: getattr(deployment, f"graph_{key}") for key in TIMING}
    return {key: deployment.version.graph.get(key) for key in TIMING}
