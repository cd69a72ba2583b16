from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from loom.errors import Invalid
from loom.notebook_html import AnyFormat, notebook_html_response
from runs import selectors, services
from runs.compare import executed_notebook_text
from runs.engines import ENGINE_NAMES, EngineUnavailable, engine_get
from accounts.models import ApiToken
from runs.models import Run, Status, Trigger
from runs.serializers import (ItemsHistogramSerializer, NodeItemSerializer, SourceSerializer, RunDetailSerializer,
                              RunRepairSerializer, RunSerializer,
                              RunStartSerializer)
from runtime.parameters import fan_out
from tenancy.scoping import TenantScopedMixin
from workflows.selectors import workflow_version_get
from workflows.views import WorkflowScopedMixin


class EngineSerializer(serializers.Serializer):
    name = serializers.CharField()
    available = serializers.BooleanField(help_text="Configured on this installation (not whether it answers now).")
    problem = serializers.CharField(allow_blank=True, help_text="Why it is not, for an operator.")


class EngineListView(generics.GenericAPIView):
    """The engines a run may ask for, and whether this installation has each (no network)."""

    serializer_class = EngineSerializer

    @extend_schema(responses=EngineSerializer(many=True))
    def get(self, request):
        engines = []
        for name in ENGINE_NAMES:
            try:
                engine_get(name)
                engines.append({"name": name, "available": True, "problem": ""})
            except EngineUnavailable as e:
                engines.append({"name": name, "available": False, "problem": str(e)})
        return Response(EngineSerializer(engines, many=True).data)


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
        409: OpenApiResponse(description="The tenant is deactivated"),
        503: OpenApiResponse(description="The engine is not configured")})
    def post(self, request, tenant, workflow_id):
        """Start a run. An invalid graph or bad parameters get 400 with every problem."""
        workflow = self.get_object()
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        options["from_"] = options.pop("from", None)
        version = workflow_version_get(workflow=workflow, number=options.pop("version", None))
        # A token is a script or another system; a session is a person in the editor.
        trigger = Trigger.API if isinstance(request.auth, ApiToken) else Trigger.MANUAL
        run = services.run_start(version=version, user=request.user, trigger=trigger, **options)
        return Response(run_detail(run), status=status.HTTP_201_CREATED)


class PlannedNodeSerializer(serializers.Serializer):
    node = serializers.CharField()
    action = serializers.ChoiceField(choices=["run", "reused", "cached", "skipped"])
    source = SourceSerializer(allow_null=True, help_text="Where a reused or cached node's outputs come from.")


class RunPlanView(WorkflowScopedMixin, generics.GenericAPIView):
    serializer_class = PlannedNodeSerializer

    @extend_schema(request=RunStartSerializer, responses={200: PlannedNodeSerializer(many=True), 400: OpenApiResponse(
        description="As starting the run would answer")})
    def post(self, request, tenant, workflow_id):
        """What starting this run would do, per node: run, reused (from where), cached (from where) or
        skipped; nothing is started. The cache answers here the nodes whose inputs are known before
        the run; others may still be cached once their upstream ran."""
        workflow = self.get_object()
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        options["from_"] = options.pop("from", None)
        version = workflow_version_get(workflow=workflow, number=options.pop("version", None))
        return Response(PlannedNodeSerializer(services.run_plan(version=version, **options), many=True).data)


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

    @extend_schema(request=RunRepairSerializer, responses={
        200: RunDetailSerializer, 400: OpenApiResponse(description="A kept node no longer fits the version or parameters (each in `errors`)"),
        404: OpenApiResponse(description="No such version"), 409: OpenApiResponse(description="Not repairable"),
        503: OpenApiResponse(description="The run's engine is unreachable")})
    def post(self, request, tenant, run_id):
        """Rerun failed, upstream_failed and cancelled nodes and their dependants, reusing what succeeded;
        on another version ("latest" with the fix, say) and with changed parameters if asked."""
        data = RunRepairSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(run_detail(services.run_repair(run=self.get_object(), **data.validated_data)))


class ItemsPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


class NodeItemsView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = NodeItemSerializer
    pagination_class = ItemsPagination

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=list(Status.values), description="Only the items in this state."),
        OpenApiParameter("item", str, description="Only the items whose value contains this text (any case)."),
        OpenApiParameter("sort", str, description=(
            "map_index (default), status, started_at, duration or outputs.<name>; a leading '-' sorts "
            "descending. Items without the value come last; ties keep item order.")),
    ])
    def get(self, request, tenant, run_id, node):
        """The items of a fanned-out node, a page at a time (limit, offset)."""
        run = self.get_object()
        parameter = _fanned_out_parameter(run, node)
        query = request.query_params
        _status_check(query)
        try:
            rows = selectors.node_items(run=run, node=node, parameter=parameter, status=query.get("status", ""),
                                        item=query.get("item", ""), sort=query.get("sort") or "map_index")
        except ValueError as e:
            return Response({"detail": str(e)}, status=400)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(NodeItemSerializer(page, many=True, context={"parameter": parameter}).data)


class NodeItemsHistogramView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = ItemsHistogramSerializer

    @extend_schema(parameters=[
        OpenApiParameter("output", str, required=True, description="The numeric output to count."),
        OpenApiParameter("bins", int, description="How many bins (1-100, default 20)."),
        OpenApiParameter("status", str, enum=list(Status.values), description="Only the items in this state."),
    ])
    def get(self, request, tenant, run_id, node):
        """A numeric output across a fanned-out node's items, counted into bins (e.g. AUC per account)."""
        run = self.get_object()
        _fanned_out_parameter(run, node)
        query = request.query_params
        _status_check(query)
        if not query.get("output"):
            raise Invalid("output is required: the name of a numeric output of the node.")
        bins = query.get("bins") or "20"
        if not bins.isdigit() or not 1 <= int(bins) <= 100:
            raise Invalid("bins must be an integer from 1 to 100.")
        return Response(ItemsHistogramSerializer(selectors.node_items_histogram(
            run=run, node=node, output=query["output"], bins=int(bins), status=query.get("status", ""))).data)


class NodeRetryFailedItemsView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = RunDetailSerializer

    @extend_schema(request=None, responses={
        200: RunDetailSerializer, 400: OpenApiResponse(description="Not a fanned-out node of the run"),
        409: OpenApiResponse(description="The run is not finished, or the node has no failed items"),
        503: OpenApiResponse(description="The run's engine is unreachable")})
    def post(self, request, tenant, run_id, node):
        """Rerun the items of a fanned-out node that did not succeed, and everything downstream of the node."""
        return Response(run_detail(services.run_retry_failed_items(run=self.get_object(), node=node)))


def _fanned_out_parameter(run: Run, node: str) -> str:
    """The parameter a fanned-out node of the run gives each item; 404 for any other node."""
    spec = next((n for n in run.version.graph["nodes"] if n["id"] == node), None)
    if spec is None or not spec.get("map_over"):
        raise Http404(f"Run {run.pk} has no fanned-out node '{node}'.")
    return fan_out(spec["map_over"], spec.get("map_parameter")).parameter


def _status_check(query) -> None:
    if query.get("status") and query["status"] not in Status.values:
        raise Invalid(f"status must be one of {', '.join(Status.values)}.")


class NodeNotebookView(RunScopedMixin, generics.GenericAPIView):
    content_negotiation_class = AnyFormat

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
        if fmt not in ("html", "ipynb"):
            return Response({"detail": "format must be ipynb or html."}, status=400)
        notebook = executed_notebook_text(row)
        if fmt == "html":
            return notebook_html_response(notebook)
        response = HttpResponse(notebook, content_type="application/x-ipynb+json")
        response["Content-Disposition"] = f'attachment; filename="{name}.ipynb"'
        return response
