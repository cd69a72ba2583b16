from django.http import Http404
from django.utils.cache import get_conditional_response
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from tenancy.scoping import TenantScopedMixin
from workflows import selectors, services
from workflows.details import detail_etag, detail_graph, workflow_detail
from workflows.models import Workflow, WorkflowVersion
from workflows.serializers import (
    GraphSerializer,
    GraphUpdateSerializer,
    StaleSerializer,
    ValidateRequestSerializer,
    ValidationResultSerializer,
    WorkflowDetailSerializer,
    WorkflowSerializer,
    WorkflowVersionSerializer,
)

VERSION_PARAM = OpenApiParameter("version", int, description="A version number; the latest by default.")
IF_NONE_MATCH = OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER,
                                 description="The ETag of an earlier answer: 304 without a body if it still holds.")


class WorkflowScopedMixin(TenantScopedMixin):
    tenant_model = Workflow
    lookup_url_kwarg = "workflow_id"

    def get_version(self, workflow: Workflow, **options) -> WorkflowVersion:
        """The version named by ?version= (the latest by default), or 404."""
        number = self.request.query_params.get("version")
        if number and not number.isdigit():
            raise Http404(f"Workflow '{workflow.name}' has no version {number}.")
        return selectors.workflow_version_get(workflow=workflow, number=int(number) if number else None, **options)


class WorkflowListView(WorkflowScopedMixin, generics.ListAPIView):
    serializer_class = WorkflowSerializer

    def get_queryset(self):
        return selectors.workflow_list(tenant=self.tenant)

    @extend_schema(request=GraphSerializer, responses={201: WorkflowDetailSerializer})
    def post(self, request, tenant):
        data = GraphSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.workflow_create(tenant=self.tenant, graph=data.validated_data, user=request.user)
        return Response(workflow_detail(version), status=status.HTTP_201_CREATED)


class WorkflowDetailView(WorkflowScopedMixin, generics.GenericAPIView):
    serializer_class = WorkflowDetailSerializer

    @extend_schema(parameters=[VERSION_PARAM, IF_NONE_MATCH], responses={200: WorkflowDetailSerializer, 304: None})
    def get(self, request, tenant, workflow_id):
        """The version (the latest by default). Its ETag changes with anything the answer shows; sent
        back in If-None-Match, it gets 304 without the graph. Browsers do that themselves (no-cache)."""
        number = request.query_params.get("version") or ""
        version = selectors.workflow_version_shown(tenant=self.tenant, workflow_id=workflow_id,
                                                   number=int(number) if number else None) if number.isdigit() or not number else None
        # Not found: the two-step path answers 404 saying what is missing (the workflow, or that version).
        version = version or self.get_version(self.get_object())
        detail = workflow_detail(version, graph=False)
        headers = {"ETag": detail_etag(detail, version), "Cache-Control": "private, no-cache"}
        unchanged = get_conditional_response(request, etag=headers["ETag"])
        if unchanged is not None:  # 304 (or 412 for an If-Match that does not match)
            for name, value in headers.items():
                unchanged[name] = value
            return unchanged
        return Response(detail_graph(detail, version), headers=headers)

    @extend_schema(request=GraphUpdateSerializer, responses={200: WorkflowDetailSerializer, 409: StaleSerializer})
    def put(self, request, tenant, workflow_id):
        """Save a new version. A save whose base_version is not the latest gets 409 and changes nothing."""
        workflow = self.get_object()
        data = GraphUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        graph = dict(data.validated_data)
        base = graph.pop("base_version")
        version = services.workflow_update(workflow=workflow, graph=graph, base_version=base, user=request.user)
        return Response(workflow_detail(version))

    def delete(self, request, tenant, workflow_id):
        services.workflow_delete(workflow=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowVersionListView(WorkflowScopedMixin, generics.GenericAPIView):
    serializer_class = WorkflowVersionSerializer

    @extend_schema(responses=WorkflowVersionSerializer(many=True))
    def get(self, request, tenant, workflow_id):
        # Not the graphs: a long history of a large workflow would read megabytes to show numbers.
        versions = self.get_object().versions.select_related("created_by").defer("graph", "validation").order_by("-number")
        return Response(WorkflowVersionSerializer(versions, many=True).data)


class WorkflowValidateView(WorkflowScopedMixin, generics.GenericAPIView):
    serializer_class = ValidationResultSerializer

    @extend_schema(request=ValidateRequestSerializer, responses=ValidationResultSerializer)
    def post(self, request, tenant, workflow_id):
        workflow = self.get_object()
        data = ValidateRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "graph" in data.validated_data:
            errors = selectors.workflow_errors(tenant=self.tenant, graph=data.validated_data["graph"])
        else:
            errors = selectors.workflow_version_errors(version=selectors.workflow_version_get(workflow=workflow))
        return Response({"valid": not errors, "errors": [e.as_dict() for e in errors]})
