from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from loom.errors import Forbidden
from loom.roles import is_platform_admin
from tenancy import checks, invitations, selectors, services
from tenancy.kinds import kind_forms
from tenancy.models import Connection, Invitation, Membership, Role
from tenancy.scoping import TenantScopedMixin
from tenancy.serializers import (
    ConnectionKindSerializer,
    ConnectionSerializer,
    ConnectionTestSerializer,
    InvitationJoinedSerializer,
    InvitationPreviewSerializer,
    InvitationSerializer,
    InvitationSignupSerializer,
    InvitationTokenSerializer,
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
        if not is_platform_admin(request.user):
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
        request.tenant = services.tenant_update(tenant=self.tenant, user=request.user, data=data.validated_data)
        return self.get(request, tenant)


class _MemberViewMixin(TenantScopedMixin):
    tenant_model = Membership
    write_role = Role.ADMIN
    serializer_class = MemberSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("user")

    def get_serializer_context(self):
        # Members' email addresses are for the tenant's admins only.
        return {**super().get_serializer_context(), "show_emails": self.request.membership.has_role(Role.ADMIN)}


class MemberListView(_MemberViewMixin, generics.ListAPIView):
    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def post(self, request, tenant):
        """Platform admins add a user directly; tenant admins invite by email (…/invitations/)."""
        if not is_platform_admin(request.user):
            raise Forbidden("Tenant admins add people by invitation: POST an email and a role to "
                            f"/api/tenants/{tenant}/invitations/. Only platform admins add users directly.")
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_add(tenant=self.tenant, **data.validated_data)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(_MemberViewMixin, generics.GenericAPIView):
    lookup_url_kwarg = "member_id"

    @extend_schema(responses=MemberSerializer)
    def get(self, request, tenant, member_id):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def patch(self, request, tenant, member_id):
        membership = self.get_object()
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_update(membership=membership, **data.validated_data)
        return Response(self.get_serializer(membership).data)

    def delete(self, request, tenant, member_id):
        services.member_remove(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(TenantScopedMixin, generics.ListAPIView):
    """The tenant's invitations (admins only: they carry email addresses); POST invites."""

    tenant_model = Invitation
    read_role = write_role = Role.ADMIN
    serializer_class = InvitationSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("invited_by")

    @extend_schema(request=InvitationSerializer, responses={
        201: InvitationSerializer, 503: OpenApiResponse(description="The email could not be sent; nothing was saved.")})
    def post(self, request, tenant):
        """Mail an invitation link. The answer is the same whether or not the address has an account."""
        data = InvitationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(tenant=self.tenant, invited_by=request.user, **data.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(TenantScopedMixin, generics.GenericAPIView):
    tenant_model = Invitation
    read_role = write_role = Role.ADMIN
    serializer_class = InvitationSerializer
    lookup_url_kwarg = "invitation_id"

    def delete(self, request, tenant, invitation_id):
        """Revoke: the mailed link stops working."""
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


NO_INVITATION = OpenApiResponse(description="No such invitation, or it expired or was used.")


class InvitationPreviewView(APIView):
    """What an invitation link offers, for the page that accepts it (no login needed)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=InvitationTokenSerializer, responses={200: InvitationPreviewSerializer, 404: NO_INVITATION})
    def post(self, request):
        data = InvitationTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(InvitationPreviewSerializer(invitations.invitation_pending(**data.validated_data)).data)


class InvitationAcceptView(APIView):
    """The logged-in user joins the invitation's tenant."""

    @extend_schema(request=InvitationTokenSerializer, responses={201: TenantSerializer, 404: NO_INVITATION})
    def post(self, request):
        data = InvitationTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = invitations.invitation_accept(user=request.user, **data.validated_data)
        tenant = membership.tenant
        return Response(TenantSerializer(tenant, context={"roles": {tenant.pk: membership.role}}).data,
                        status=status.HTTP_201_CREATED)


class InvitationSignupView(APIView):
    """A new person creates their account from an invitation and joins its tenant."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=InvitationSignupSerializer, responses={
        201: InvitationJoinedSerializer, 404: NO_INVITATION,
        409: OpenApiResponse(description="The invitation's email is an account's username already: log in to join")})
    def post(self, request):
        data = InvitationSignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = invitations.invitation_signup(**data.validated_data)
        return Response(InvitationJoinedSerializer(membership).data, status=status.HTTP_201_CREATED)


class ConnectionListView(TenantScopedMixin, generics.ListAPIView):
    """Members see which connections exist (never their secrets); admins manage them."""

    tenant_model = Connection
    write_role = Role.ADMIN
    serializer_class = ConnectionSerializer

    def get_serializer_context(self):
        names = self.get_queryset().values_list("name", flat=True)
        return {**super().get_serializer_context(), "used_by": services.connection_users_of(tenant=self.tenant, names=names)}

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

    def _answer(self, connection, **kwargs) -> Response:
        used_by = services.connection_users_of(tenant=self.tenant, names=[connection.name])
        return Response(ConnectionSerializer(connection, context={"used_by": used_by}).data, **kwargs)

    def get(self, request, tenant, connection_id):
        return self._answer(self.get_object())

    def put(self, request, tenant, connection_id):
        connection = self.get_object()
        data = ConnectionSerializer(connection, data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(services.connection_save(tenant=self.tenant, connection=connection, data=data.validated_data))

    def delete(self, request, tenant, connection_id):
        """Refused (409, naming them) while workflows' latest versions still use the connection."""
        services.connection_delete(connection=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestView(TenantScopedMixin, generics.GenericAPIView):
    """Test connection (admins): POST asks a worker to try it from inside a notebook sandbox (202,
    pending); GET is the latest test, to poll until it is no longer pending."""

    tenant_model = Connection
    read_role = write_role = Role.ADMIN
    serializer_class = ConnectionTestSerializer
    lookup_url_kwarg = "connection_id"

    @extend_schema(responses={200: ConnectionTestSerializer, 404: OpenApiResponse(description="Never tested.")})
    def get(self, request, tenant, connection_id):
        test = checks.connection_test_latest(connection=self.get_object())
        if test is None:
            return Response({"detail": "This connection was never tested."}, status=status.HTTP_404_NOT_FOUND)
        return Response(ConnectionTestSerializer(test).data)

    @extend_schema(request=None, responses={202: ConnectionTestSerializer})
    def post(self, request, tenant, connection_id):
        test = checks.connection_test_request(connection=self.get_object(), user=request.user)
        return Response(ConnectionTestSerializer(test).data, status=status.HTTP_202_ACCEPTED)


class ConnectionKindListView(APIView):
    """The connection kinds and the fields each one's form offers."""

    @extend_schema(responses=ConnectionKindSerializer(many=True))
    def get(self, request):
        return Response(ConnectionKindSerializer(kind_forms(), many=True).data)
