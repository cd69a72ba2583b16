from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from tenancy import selectors, services
from tenancy.models import Connection, Membership, Role
from tenancy.scoping import TenantScopedMixin
from tenancy.serializers import (
    ConnectionSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)


class TenantListView(APIView):
    @extend_schema(responses=TenantSerializer(many=True))
    def get(self, request):
        pairs = selectors.tenant_list_for_user(user=request.user)
        roles = {t.pk: role for t, role in pairs}
        return Response(TenantSerializer([t for t, _ in pairs], many=True, context={"roles": roles}).data)

    @extend_schema(request=TenantSerializer, responses={201: TenantSerializer})
    def post(self, request):
        if not IsAdminUser().has_permission(request, self):
            return Response({"detail": "Only platform admins create tenants."}, status=status.HTTP_403_FORBIDDEN)
        data = TenantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_create(**{k: v for k, v in data.validated_data.items() if k != "role"})
        return Response(TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)


class TenantDetailView(TenantScopedMixin, APIView):
    write_role = Role.ADMIN

    @extend_schema(responses=TenantSerializer)
    def get(self, request, tenant):
        return Response(TenantSerializer(self.tenant, context={"roles": {self.tenant.pk: request.membership.role}}).data)

    @extend_schema(request=TenantUpdateSerializer, responses=TenantSerializer)
    def patch(self, request, tenant):
        data = TenantUpdateSerializer(self.tenant, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return self.get(request, tenant)


class MemberListView(TenantScopedMixin, generics.ListAPIView):
    tenant_model = Membership
    write_role = Role.ADMIN
    serializer_class = MemberSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("user")

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def post(self, request, tenant):
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_add(tenant=self.tenant, **data.validated_data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Membership
    write_role = Role.ADMIN
    serializer_class = MemberSerializer
    lookup_url_kwarg = "member_id"

    @extend_schema(responses=MemberSerializer)
    def get(self, request, tenant, member_id):
        return Response(MemberSerializer(self.get_object()).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request, tenant, member_id):
        membership = self.get_object()
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_update(membership=membership, **data.validated_data)
        return Response(MemberSerializer(membership).data)

    def delete(self, request, tenant, member_id):
        services.member_remove(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionListView(TenantScopedMixin, generics.ListAPIView):
    """Members see which connections exist (never their secrets); admins manage them."""

    tenant_model = Connection
    write_role = Role.ADMIN
    serializer_class = ConnectionSerializer

    @extend_schema(request=ConnectionSerializer, responses={201: ConnectionSerializer})
    def post(self, request, tenant):
        data = ConnectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_save(tenant=self.tenant, data=data.validated_data)
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Connection
    write_role = Role.ADMIN
    serializer_class = ConnectionSerializer
    lookup_url_kwarg = "connection_id"

    def get(self, request, tenant, connection_id):
        return Response(ConnectionSerializer(self.get_object()).data)

    def put(self, request, tenant, connection_id):
        connection = self.get_object()
        data = ConnectionSerializer(connection, data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_save(tenant=self.tenant, connection=connection, data=data.validated_data)
        return Response(ConnectionSerializer(connection).data)

    def delete(self, request, tenant, connection_id):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
