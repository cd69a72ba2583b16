"""Looking back at runs: the tenant's runs page, two runs compared, a node's two executed
notebooks diffed, and a node's log."""
from datetime import timezone as dt_timezone

from django.http import Http404
from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from loom.errors import FieldsInvalid
from loom.notebook_html import AnyFormat, sandboxed_html_response
from runs import selectors
from runs.compare import node_notebook_diff, run_compare
from runs.engines.airflow.live import airflow_log
from runs.models import NodeRun, Run, Status, Trigger
from runs.serializers import NodeLogSerializer, NodeNotebookDiffSerializer, RunCompareSerializer, RunListItemSerializer
from runs.views import RunScopedMixin
from tenancy.scoping import TenantScopedMixin


def _map_index(request) -> int | None:
    raw = request.query_params.get("map_index") or ""
    if raw and not raw.removeprefix("-").isdigit():
        raise FieldsInvalid({"map_index": ["map_index must be an integer."]})
    return int(raw) if raw else None


class RunsPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class TenantRunListView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Run
    serializer_class = RunListItemSerializer
    pagination_class = RunsPagination

    @extend_schema(operation_id="tenants_runs_list", responses=RunListItemSerializer(many=True), parameters=[
        OpenApiParameter("workflow", int, description="Only the runs of this workflow."),
        OpenApiParameter("status", str, enum=list(Status.values)),
        OpenApiParameter("trigger", str, enum=list(Trigger.values)),
        OpenApiParameter("since", OpenApiTypes.DATETIME, description="Only the runs created at or after (ISO 8601)."),
        OpenApiParameter("until", OpenApiTypes.DATETIME, description="Only the runs created before (ISO 8601)."),
    ])
    def get(self, request, tenant):
        """The tenant's runs, newest first, a page at a time (limit, offset)."""
        query, errors, filters = request.query_params, {}, {}
        if query.get("workflow"):
            if query["workflow"].isdigit():
                filters["workflow"] = int(query["workflow"])
            else:
                errors["workflow"] = [f"A workflow id is required, not {query['workflow']!r}."]
        for name, choices in (("status", Status.values), ("trigger", Trigger.values)):
            if query.get(name) and query[name] not in choices:
                errors[name] = [f"{name} must be one of {', '.join(choices)}."]
            filters[name] = query.get(name, "")
        for name in ("since", "until"):
            if query.get(name):
                try:
                    filters[name] = parse_datetime(query[name])
                    if filters[name] is not None and filters[name].tzinfo is not None:
                        # In UTC: PostgreSQL refuses offsets past ±15:59 that Python parses.
                        filters[name] = filters[name].astimezone(dt_timezone.utc)
                except (ValueError, OverflowError):
                    filters[name] = None
                if filters[name] is None:
                    errors[name] = [f"An ISO 8601 date and time is required, not {query[name]!r}."]
        if errors:
            raise FieldsInvalid(errors)
        page = self.paginate_queryset(selectors.run_search(tenant=self.tenant, **filters))
        return self.get_paginated_response(RunListItemSerializer(page, many=True).data)


class _OtherRunMixin(RunScopedMixin):
    def other_run(self) -> Run:
        """The run named by ?with=, of the same tenant."""
        raw = self.request.query_params.get("with", "")
        if not raw.isdigit():
            raise FieldsInvalid({"with": ["The run to compare with is required: ?with=<run id>." if not raw
                                          else f"A run id is required, not {raw!r}."]})
        other = self.get_queryset().filter(pk=int(raw)).first()
        if other is None:
            raise Http404(f"No run {raw} in this tenant.")
        return other


WITH = OpenApiParameter("with", int, required=True, description="The other run (same tenant).")


class RunCompareView(_OtherRunMixin, generics.GenericAPIView):
    serializer_class = RunCompareSerializer

    @extend_schema(parameters=[WITH], responses={200: RunCompareSerializer, 400: OpenApiResponse(description="No ?with=")})
    def get(self, request, tenant, run_id):
        """This run against ?with=: the parameters that differ, and per node both sides (status,
        duration, outputs) with what changed."""
        return Response(RunCompareSerializer(run_compare(run=self.get_object(), other=self.other_run())).data)


class NodeNotebookDiffView(_OtherRunMixin, generics.GenericAPIView):
    content_negotiation_class = AnyFormat
    serializer_class = NodeNotebookDiffSerializer

    @extend_schema(
        parameters=[WITH, OpenApiParameter("map_index", int, description="The item of a fanned-out node."),
                    OpenApiParameter("format", str, enum=["json", "html"], description="json (default) or html.")],
        responses={(200, "application/json"): NodeNotebookDiffSerializer, (200, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, tenant, run_id, node):
        """The node's executed notebook in ?with= (old side) against this run's (new side),
        cell by cell, computed by nbdime; execution counts and timings are not differences."""
        run, other, map_index = self.get_object(), self.other_run(), _map_index(request)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "html"):
            raise FieldsInvalid({"format": ["format must be json or html."]})
        try:
            diff = node_notebook_diff(run=run, other=other, node=node, map_index=map_index)
        except NodeRun.DoesNotExist as e:
            raise Http404(str(e)) from None
        if fmt == "html":
            return sandboxed_html_response(render_to_string("runs/notebook_diff.html", {"diff": diff}))
        return Response(NodeNotebookDiffSerializer(diff).data)


class NodeLogView(RunScopedMixin, generics.GenericAPIView):
    serializer_class = NodeLogSerializer

    @extend_schema(parameters=[
        OpenApiParameter("offset", int, description="Characters of the log already read (0 by default)."),
        OpenApiParameter("map_index", int, description="The item of a fanned-out node."),
    ], responses={200: NodeLogSerializer, 502: OpenApiResponse(description="Airflow no longer has the task's log"),
                  503: OpenApiResponse(description="The log is still in Airflow, which cannot be reached now")})
    def get(self, request, tenant, run_id, node):
        """The node run's log from `offset` on: while it runs, what it printed so far (the local
        engine streams it; on Airflow, the task's log as Airflow has it now). On Airflow the log of
        a task that succeeded is read from Airflow the first time it is asked for, then stored."""
        run, map_index = self.get_object(), _map_index(request)
        raw = request.query_params.get("offset") or "0"
        if not raw.isdigit():
            raise FieldsInvalid({"offset": ["offset must be a non-negative integer."]})
        try:
            row = selectors.node_run_get(run=run, node=node, map_index=map_index)
        except NodeRun.DoesNotExist as e:
            raise Http404(str(e)) from None
        log = airflow_log(run=run, row=row) if run.engine == "airflow" else row.log
        offset = int(raw)
        reset = offset > len(log)
        return Response(NodeLogSerializer({"text": log if reset else log[offset:], "offset": len(log),
                                           "status": row.status, "reset": reset}).data)
