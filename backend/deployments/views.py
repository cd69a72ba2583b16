from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from deployments import selectors, services
from deployments.models import Deployment
from deployments.serializers import DeploymentPatchSerializer, DeploymentRequestSerializer, DeploymentSerializer
from workflows.selectors import workflow_version_get
from workflows.views import WorkflowScopedMixin

# The deployment, or null when there is none (OpenAPI 3.0 says "nullable" beside a $ref this way).
NOT_DEPLOYED_OR_DEPLOYMENT = {"allOf": [{"$ref": "#/components/schemas/Deployment"}], "nullable": True}


class DeploymentView(WorkflowScopedMixin, generics.GenericAPIView):
    """The workflow's deployed version, which runs on its schedule on an engine (Loom's scheduler
    on `local`, Airflow's on `airflow`): deploy a version, pause or resume it, undeploy."""

    serializer_class = DeploymentSerializer

    def get_deployment(self) -> Deployment:
        return selectors.deployment_get(workflow=self.get_object())

    @extend_schema(responses={200: NOT_DEPLOYED_OR_DEPLOYMENT, 404: OpenApiResponse(description="No such workflow")})
    def get(self, request, tenant, workflow_id):
        """On Airflow `deploying` until Airflow has parsed the DAG; then `deployed`, or `failed` with
        the import error Airflow reported. On the local engine `deployed` at once. `null` when the
        workflow is not deployed: a state the editor shows, not an error."""
        workflow = self.get_object()
        try:
            return Response(DeploymentSerializer(selectors.deployment_get(workflow=workflow)).data)
        except Deployment.DoesNotExist:
            return JsonResponse(None, safe=False)  # DRF renders None as an empty body, not as null

    @extend_schema(request=DeploymentRequestSerializer, responses={
        202: DeploymentSerializer,
        400: OpenApiResponse(description="The version fails validation: {detail, errors: [{node, field, message}]}."),
        404: OpenApiResponse(description="No such version"),
        502: OpenApiResponse(description="Airflow answered with an error"),
        503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def post(self, request, tenant, workflow_id):
        """Deploy a version (the latest by default) to an engine, replacing the deployed one. Airflow:
        the DAG file and its notebooks are written, the tenant's connections and pool synced; watch
        GET for the outcome. Local: Loom's scheduler runs it from now on."""
        workflow = self.get_object()
        data = DeploymentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = workflow_version_get(workflow=workflow, number=data.validated_data.get("version"))
        deployment = services.deployment_deploy(version=version, user=request.user,
                                                engine=data.validated_data.get("engine") or services.engine_default(),
                                                max_active_runs=data.validated_data.get("max_active_runs"))
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=DeploymentPatchSerializer, responses={
        200: DeploymentSerializer, 404: OpenApiResponse(description="Not deployed"),
        503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def patch(self, request, tenant, workflow_id):
        """Pause (`{"paused": true}`) or resume the schedule. On Airflow the DAG is paused too."""
        deployment = self.get_deployment()
        data = DeploymentPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = services.deployment_pause(deployment=deployment, paused=data.validated_data["paused"])
        return Response(DeploymentSerializer(deployment).data)

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="Not deployed"),
                              503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def delete(self, request, tenant, workflow_id):
        """Undeploy. Airflow: pause the DAG, cancel its active runs, remove its file and the DAG from
        Airflow. Local: the scheduler starts no more runs (active ones go on)."""
        services.deployment_undeploy(deployment=self.get_deployment())
        return Response(status=status.HTTP_204_NO_CONTENT)
