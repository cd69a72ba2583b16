from deployments.models import Deployment
from workflows.models import VERSION_BULK, Workflow


def deployment_get(*, workflow: Workflow) -> Deployment:
    """The workflow's deployment; Deployment.DoesNotExist saying so when it is not deployed."""
    try:
        return Deployment.objects.select_related("version", "deployed_by").defer(*VERSION_BULK).get(workflow=workflow)
    except Deployment.DoesNotExist:
        raise Deployment.DoesNotExist(f"Workflow '{workflow.name}' is not deployed.") from None
