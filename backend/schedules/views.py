from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from deployments.models import Deployment
from schedules import backfills
from schedules.models import Backfill
from schedules.serializers import BackfillDetailSerializer, BackfillRequestSerializer, BackfillSerializer, DryRunSerializer
from tenancy.scoping import TenantScopedMixin
from workflows.selectors import workflow_version_get
from workflows.views import WorkflowScopedMixin


class BackfillListView(WorkflowScopedMixin, generics.GenericAPIView):
    """Backfills of a workflow: runs for the logical dates of its schedule in a range."""

    serializer_class = BackfillSerializer

    @extend_schema(responses=BackfillSerializer(many=True), operation_id="tenants_workflows_backfills_list")
    def get(self, request, tenant, workflow_id):
        """The workflow's backfills, newest first (the last 50)."""
        workflow = self.get_object()
        found = Backfill.objects.filter(workflow=workflow).select_related("version", "created_by")[:50]
        return Response(BackfillSerializer(found, many=True).data)

    @extend_schema(request=BackfillRequestSerializer, responses={
        201: BackfillDetailSerializer, 200: DryRunSerializer,
        400: OpenApiResponse(description="No cron schedule, a bad range, too many dates, or Airflow refused it."),
        409: OpenApiResponse(description="A backfill of this workflow is running, or the tenant is deactivated"),
        503: OpenApiResponse(description="Airflow is not configured or unreachable")})
    def post(self, request, tenant, workflow_id):
        """Start a backfill, or with dry_run list the logical dates it would run (200)."""
        workflow = self.get_object()
        data = BackfillRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        deployment = Deployment.objects.filter(workflow=workflow).select_related("version").first()
        number = options.get("version") or (deployment.version.number if deployment else None)
        version = workflow_version_get(workflow=workflow, number=number)
        engine = options.get("engine") or (deployment.engine if deployment else "local")
        if options["dry_run"]:
            plan = backfills.backfill_plan(version=version, start=options["start"], end=options["end"],
                                           reprocess=options["reprocess"])
            return Response(DryRunSerializer({"dry_run": True, "dates": plan}).data)
        backfill = backfills.backfill_create(workflow=workflow, version=version, engine=engine, start=options["start"],
                                             end=options["end"], reprocess=options["reprocess"],
                                             max_active_runs=options["max_active_runs"], user=request.user)
        return Response(BackfillDetailSerializer(backfill).data, status=status.HTTP_201_CREATED)


class BackfillScopedMixin(TenantScopedMixin):
    tenant_model = Backfill
    lookup_url_kwarg = "backfill_id"

    def get_queryset(self):
        return super().get_queryset().filter(workflow_id=self.kwargs["workflow_id"]).select_related("version", "created_by")


class BackfillDetailView(BackfillScopedMixin, generics.GenericAPIView):
    serializer_class = BackfillDetailSerializer

    def get(self, request, tenant, workflow_id, backfill_id):
        """The backfill and each of its dates: queued, running, success, failed or cancelled."""
        return Response(BackfillDetailSerializer(self.get_object()).data)


class BackfillCancelView(BackfillScopedMixin, generics.GenericAPIView):
    serializer_class = BackfillDetailSerializer

    @extend_schema(request=None, responses={200: BackfillDetailSerializer})
    def post(self, request, tenant, workflow_id, backfill_id):
        """Cancel: dates not started yet never run; runs already started go on."""
        return Response(BackfillDetailSerializer(backfills.backfill_cancel(backfill=self.get_object())).data)
