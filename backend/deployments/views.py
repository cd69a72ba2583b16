from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from deployments import selectors, services
from deployments.client import AirflowError, AirflowUnavailable
from deployments.models import Deployment
from deployments.serializers import DeploymentRequestSerializer, DeploymentSerializer
from workflows.models import WorkflowVersion
from workflows.services import WorkflowInvalid
from workflows.views import WorkflowScopedMixin


def _unavailable(e: Exception) -> Response:
    return Response({"detail": str(e)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


def _airflow_error(e: AirflowError) -> Response:
    return Response({"detail": str(e)}, status=status.HTTP_502_BAD_GATEWAY)


class DeploymentView(WorkflowScopedMixin, generics.GenericAPIView):
    """The workflow's DAG in Airflow: deploy a version, see whether Airflow took it, undeploy."""

    serializer_class = DeploymentSerializer

    def get_deployment(self) -> Deployment:
        workflow = self.get_object()
        try:
            return selectors.deployment_get(workflow=workflow)
        except Deployment.DoesNotExist:
            raise Http404(f"Workflow '{workflow.name}' is not deployed to Airflow.")

    @extend_schema(responses={200: DeploymentSerializer, 404: OpenApiResponse(description="Not deployed")})
    def get(self, request, tenant, workflow_id):
        """`deploying` until Airflow has parsed the DAG; then `deployed` (and unpaused), or `failed`
        with the import error Airflow reported."""
        return Response(DeploymentSerializer(self.get_deployment()).data)

    @extend_schema(request=DeploymentRequestSerializer, responses={
        202: DeploymentSerializer,
        400: OpenApiResponse(description="The version fails validation: {detail, errors: [{node, field, message}]}."),
        404: OpenApiResponse(description="No such version"),
        502: OpenApiResponse(description="Airflow answered with an error"),
        503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def post(self, request, tenant, workflow_id):
        """Deploy a version (the latest by default), replacing the deployed one: the DAG file and its
        notebooks are written, the tenant's connections and pool synced. Watch GET for the outcome."""
        workflow = self.get_object()
        data = DeploymentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = data.validated_data.get("version")
        try:
            deployment = services.deployment_deploy(workflow=workflow, number=number, user=request.user)
        except AirflowUnavailable as e:
            return _unavailable(e)
        except AirflowError as e:
            return _airflow_error(e)
        except WorkflowVersion.DoesNotExist:
            raise Http404(f"Workflow '{workflow.name}' has no version {number}.")
        except WorkflowInvalid as e:
            return Response({"detail": str(e), "errors": [x.as_dict() for x in e.errors]}, status=400)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="Not deployed"),
                              503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def delete(self, request, tenant, workflow_id):
        """Undeploy: pause the DAG, cancel its active runs, remove its file and the DAG from Airflow."""
        deployment = self.get_deployment()
        try:
            services.deployment_undeploy(deployment=deployment)
        except AirflowUnavailable as e:
            return _unavailable(e)
        except AirflowError as e:
            return _airflow_error(e)
        return Response(status=status.HTTP_204_NO_CONTENT)
