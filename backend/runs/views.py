from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from runs import selectors, services
from runs.models import Run
from runs.serializers import RunDetailSerializer, RunSerializer, RunStartSerializer
from tenancy.scoping import TenantScopedMixin
from workflows.selectors import workflow_version_get
from workflows.views import WorkflowScopedMixin


def run_detail(run: Run) -> dict:
    run.nodes = selectors.run_node_runs(run=run)
    return RunDetailSerializer(run).data


class RunListView(WorkflowScopedMixin, generics.GenericAPIView):
    serializer_class = RunSerializer

    @extend_schema(responses=RunSerializer(many=True))
    def get(self, request, tenant, workflow_id):
        return Response(RunSerializer(selectors.run_list(workflow=self.get_object()), many=True).data)

    @extend_schema(request=RunStartSerializer, responses={
        201: RunDetailSerializer, 400: OpenApiResponse(description="A field of the body is invalid, or the version's graph or the parameters fail validation (every problem in `errors`)."), 404: OpenApiResponse(description="No such version"),
        503: OpenApiResponse(description="The engine is not configured")})
    def post(self, request, tenant, workflow_id):
        """Start a run. An invalid graph or bad parameters get 400 with every problem."""
        workflow = self.get_object()
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        version = workflow_version_get(workflow=workflow, number=options.pop("version", None))
        run = services.run_start(version=version, user=request.user, **options)
        return Response(run_detail(run), status=status.HTTP_201_CREATED)


class RunScopedMixin(TenantScopedMixin):
    tenant_model = Run
    lookup_url_kwarg = "run_id"

    def get_queryset(self):
        return super().get_queryset().select_related("version", "created_by", "tenant")


class RunDetailView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = RunDetailSerializer

    def get(self, request, tenant, run_id):
        return Response(run_detail(self.get_object()))


class RunCancelView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = RunDetailSerializer

    @extend_schema(request=None, responses={200: RunDetailSerializer,
                                            503: OpenApiResponse(description="The run's engine is unreachable")})
    def post(self, request, tenant, run_id):
        """Cancel: running kernels are stopped, and what did not finish becomes cancelled."""
        return Response(run_detail(services.run_cancel(run=self.get_object())))


class RunRepairView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = RunDetailSerializer

    @extend_schema(request=None, responses={200: RunDetailSerializer, 409: OpenApiResponse(description="Not repairable"),
                                            503: OpenApiResponse(description="The run's engine is unreachable")})
    def post(self, request, tenant, run_id):
        """Rerun failed, upstream_failed and cancelled nodes and their dependants, reusing what succeeded."""
        return Response(run_detail(services.run_repair(run=self.get_object())))


class _AnyFormat(DefaultContentNegotiation):
    """?format= chooses the notebook's format here, not DRF's renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class NodeNotebookView(RunScopedMixin, generics.GenericAPIView):
    content_negotiation_class = _AnyFormat

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["ipynb", "html"], description="ipynb (default) or html (nbconvert)."),
            OpenApiParameter("map_index", int, description="The item of a fanned-out node."),
        ],
        responses={(200, "application/x-ipynb+json"): OpenApiTypes.OBJECT, (200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, tenant, run_id, node):
        """The executed notebook of a node run (also of a failed one)."""
        run = self.get_object()
        raw_index = request.query_params.get("map_index") or ""
        if raw_index and not raw_index.removeprefix("-").isdigit():
            return Response({"detail": "map_index must be an integer."}, status=400)
        map_index = int(raw_index) if raw_index else None
        row = selectors.node_run_get(run=run, node=node, map_index=map_index)
        if not row.notebook:
            items = run.node_runs.filter(node=node, map_index__isnull=False).count()
            hint = f" It is fanned out: give map_index (0-{items - 1})." if map_index is None and items else ""
            raise Http404(f"'{node}' has no executed notebook (it is {row.status}).{hint}")
        fmt = request.query_params.get("format", "ipynb")
        name = f"run{run.pk}-{node}" + (f"-{map_index}" if map_index is not None else "")
        if fmt == "html":
            return _sandboxed(HttpResponse(_html(row.notebook), content_type="text/html; charset=utf-8"))
        if fmt != "ipynb":
            return Response({"detail": "format must be ipynb or html."}, status=400)
        response = HttpResponse(row.notebook, content_type="application/x-ipynb+json")
        response["Content-Disposition"] = f'attachment; filename="{name}.ipynb"'
        return response


# An executed notebook is untrusted HTML (its outputs are whatever the notebook printed), served on
# Loom's origin. `sandbox` without allow-scripts/allow-same-origin makes the browser treat it as a
# page of an opaque origin that runs no script: no access to the session, cookies or the API. The
# rest stops remote loads (trackers, CDN scripts) and form posts; inline styles and data: images
# keep nbconvert's page readable. README, "Running workflows", says why this and not sanitizing.
NOTEBOOK_CSP = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _sandboxed(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = NOTEBOOK_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _html(notebook_json: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.reads(notebook_json, as_version=4))
    return body


