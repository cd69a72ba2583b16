from datetime import datetime

from django.utils import timezone

from deployments.models import Deployment
from workflows import timetable
from workflows.models import VERSION_BULK, Workflow


def deployment_get(*, workflow: Workflow) -> Deployment:
    """The workflow's deployment; Deployment.DoesNotExist saying so when it is not deployed."""
    try:
        return Deployment.objects.select_related("version", "deployed_by").defer(*VERSION_BULK).get(workflow=workflow)
    except Deployment.DoesNotExist:
        raise Deployment.DoesNotExist(f"Workflow '{workflow.name}' is not deployed.") from None


def deployment_next_runs(deployment: Deployment, *, now: datetime | None = None, count: int = 5) -> list[datetime]:
    """When the deployment's schedule fires next (none while paused)."""
    graph = deployment.version.graph
    if deployment.paused or not graph.get("schedule"):
        return []
    return timetable.next_fire_times(graph["schedule"], start_date=graph.get("start_date", "2026-01-01"),
                                     now=now or timezone.now(), count=count)
