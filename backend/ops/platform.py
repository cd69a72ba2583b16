"""The platform admin's API (/api/platform/…): every tenant, opening one with its first admin,
renaming and (de)activating it, and what each used over the last days. Platform admins only."""
from datetime import timedelta

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loom.roles import IsPlatformAdmin
from ops.services import tenant_activate
from runs.usage import tenants_usage
from tenancy import services
from tenancy.models import Membership, Role, Tenant, slug_validator


class PlatformTenantSerializer(serializers.ModelSerializer):
    members = serializers.IntegerField(read_only=True, help_text="How many people belong to the tenant.")
    admins = serializers.SerializerMethodField(help_text="The usernames of its admins.")

    class Meta:
        model = Tenant
        fields = ["slug", "name", "description", "is_active", "members", "admins", "created_at"]
        read_only_fields = fields

    def get_admins(self, tenant) -> list[str]:
        return [m.user.username for m in tenant.admin_memberships]


class TenantOpenSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=40, validators=[slug_validator])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    admin_username = serializers.CharField(max_length=150, help_text="The first admin: an existing user, or a new one.")
    admin_password = serializers.CharField(required=False, write_only=True, min_length=8, style={"input_type": "password"},
                                           help_text="Only to create a new user.")
    admin_email = serializers.EmailField(required=False, allow_blank=True, default="")


class TenantPlatformUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, help_text="false: its members can no longer open it; its active runs and backfills are cancelled.")


class TenantUsageSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    runs = serializers.IntegerField(help_text="Runs created in the period.")
    failed_runs = serializers.IntegerField(help_text="Of those, the runs that failed.")
    node_hours = serializers.FloatField(help_text="Time notebooks ran (executions that ended in the period), in hours.")
    artifacts_bytes = serializers.IntegerField(help_text="What the tenant's artifacts take on the local engine's disk now.")


class UsageQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, required=False, default=30)


def _tenants():
    admins = Membership.objects.filter(role=Role.ADMIN).select_related("user").order_by("user__username")
    return Tenant.objects.annotate(members=Count("membership")).prefetch_related(
        Prefetch("membership_set", queryset=admins, to_attr="admin_memberships"))


class PlatformTenantListView(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses=PlatformTenantSerializer(many=True))
    def get(self, request):
        """Every tenant, active or not, with its members' count and its admins."""
        return Response(PlatformTenantSerializer(_tenants(), many=True).data)

    @extend_schema(request=TenantOpenSerializer, responses={201: PlatformTenantSerializer})
    def post(self, request):
        """Open a tenant with its first admin (both or neither)."""
        data = TenantOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_open(**data.validated_data)
        return Response(PlatformTenantSerializer(_tenants().get(pk=tenant.pk)).data, status=status.HTTP_201_CREATED)


class PlatformTenantDetailView(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(request=TenantPlatformUpdateSerializer, responses=PlatformTenantSerializer)
    def patch(self, request, slug):
        """Rename, describe, deactivate (cancelling its active runs and backfills) or activate a tenant."""
        found = get_object_or_404(Tenant, slug=slug)
        data = TenantPlatformUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "is_active" in fields:
            found = tenant_activate(tenant=found, active=fields.pop("is_active"))
        if fields:
            found = services.tenant_update(tenant=found, user=request.user, data=fields)
        return Response(PlatformTenantSerializer(_tenants().get(pk=found.pk)).data)


class PlatformUsageView(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(parameters=[UsageQuerySerializer], responses=TenantUsageSerializer(many=True))
    def get(self, request):
        """Per tenant over the last `days` (default 30): runs, failed runs, node-hours; artifacts on disk now."""
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = timezone.now() - timedelta(days=query.validated_data["days"])
        return Response(TenantUsageSerializer(tenants_usage(since=since), many=True).data)
