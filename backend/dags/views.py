from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics

from dags.selectors import dag_file_get
from workflows.views import VERSION_PARAM, WorkflowScopedMixin

CONTENT_TYPE = "text/x-python"


class WorkflowDagView(WorkflowScopedMixin, generics.GenericAPIView):
    """The Airflow DAG file of a workflow version; viewers may read it."""

    @extend_schema(
        parameters=[VERSION_PARAM],
        responses={
            (200, CONTENT_TYPE): OpenApiResponse(OpenApiTypes.STR, description="The DAG file (Python source)."),
            400: OpenApiResponse(description="The version fails validation: {detail, errors: [{node, field, message}]}."),
        },
    )
    def get(self, request, tenant, workflow_id):
        dag = dag_file_get(version=self.get_version(self.get_object()))
        response = HttpResponse(dag.source, content_type=f"{CONTENT_TYPE}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{dag.filename}"'
        return response
