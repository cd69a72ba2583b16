from deployments.models import Deployment
from workflows.models import Workflow


def deployment_get(*, workflow: Workflow) -> Deployment:
    """The workflow's deployment; Deployment.DoesNotExist when it is not deployed."""
    return Deployment.objects.select_related("version", "deployed_by").get(workflow=workflow)
