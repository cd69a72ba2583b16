from deployments.models import Deployment
from workflows.models import Workflow


def deployment_get(*, workflow: Workflow) -> Deployment:
    """The workflow's deployment; Deployment.DoesNotExist saying so when it is not deployed."""
    try:
        return Deployment.objects.select_related("version", "deployed_by").get(workflow=workflow)
    except Deployment.DoesNotExist:
        raise Deployment.DoesNotExist(f"Workflow '{workflow.name}' is not deployed to Airflow.") from None
