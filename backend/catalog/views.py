from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import Notebook
from catalog.serializers import NotebookDetailSerializer, NotebookSerializer, NotebookUploadSerializer
from loom.notebook_html import AnyFormat, notebook_html_response
from tenancy.scoping import TenantScopedMixin


class NotebookListView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Notebook
    serializer_class = NotebookSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(responses=NotebookSerializer(many=True))
    def get(self, request, tenant):
        notebooks = list(self.get_queryset())
        latest = {v.notebook_id: v for v in selectors.latest_versions(tenant=self.tenant).values()}
        return Response(NotebookSerializer(notebooks, many=True, context={"latest": latest}).data)

    @extend_schema(request=NotebookUploadSerializer, responses={201: NotebookDetailSerializer, 200: NotebookDetailSerializer})
    def post(self, request, tenant):
        """Upload a notebook; 201 with a new version, 200 when the content is unchanged."""
        data = NotebookUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > settings.LOOM_NOTEBOOK_MAX_BYTES:
            return Response(
                {"file": [f"The notebook is {upload.size:,} bytes; the limit is {settings.LOOM_NOTEBOOK_MAX_BYTES:,} bytes."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        version, created = services.notebook_upload(
            tenant=self.tenant, name=data.validated_data.get("name") or upload.name, data=upload.read(), user=request.user
        )
        body = NotebookDetailSerializer(version.notebook, context={"latest": {version.notebook_id: version}}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class NotebookDetailView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Notebook
    serializer_class = NotebookDetailSerializer
    lookup_url_kwarg = "notebook_id"

    @extend_schema(parameters=[OpenApiParameter("version", int, description="A version number; the latest by default.")])
    def get(self, request, tenant, notebook_id):
        notebook = self.get_object()
        number = request.query_params.get("version")
        if number and not number.isdigit():
            raise Http404(f"Notebook {notebook.name} has no version {number}.")
        version = selectors.notebook_version_get(notebook=notebook, number=int(number) if number else None)
        return Response(NotebookDetailSerializer(notebook, context={"latest": {notebook.pk: version}}).data)

    def delete(self, request, tenant, notebook_id):
        services.notebook_delete(notebook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotebookPreviewView(TenantScopedMixin, generics.GenericAPIView):
    """A version of the notebook rendered as HTML (nbconvert), sandboxed like an executed notebook."""

    tenant_model = Notebook
    lookup_url_kwarg = "notebook_id"
    content_negotiation_class = AnyFormat

    @extend_schema(parameters=[OpenApiParameter("version", int, description="A version number; the latest by default.")],
                   responses={(200, "text/html"): OpenApiTypes.STR})
    def get(self, request, tenant, notebook_id):
        notebook = self.get_object()
        number = request.query_params.get("version")
        if number and not number.isdigit():
            raise Http404(f"Notebook {notebook.name} has no version {number}.")
        return notebook_html_response(selectors.notebook_version_get(notebook=notebook, number=int(number) if number else None).content)
