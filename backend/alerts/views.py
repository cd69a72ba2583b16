from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from alerts import selectors, services
from alerts.models import Channel, Delivery, DeliveryStatus, Event
from alerts.serializers import ChannelSerializer, DeliverySerializer
from tenancy.models import Role
from tenancy.scoping import TenantScopedMixin


class _ChannelMixin(TenantScopedMixin):
    """Channels are the tenant admins': they hold where alerts go and the webhooks' secrets."""

    tenant_model = Channel
    read_role = write_role = Role.ADMIN
    serializer_class = ChannelSerializer

    def _context(self, names) -> dict:
        return {"used_by": selectors.channel_users_of(tenant_id=self.tenant.pk, names=names)}


class ChannelListView(_ChannelMixin, generics.ListAPIView):
    def get_serializer_context(self):
        return {**super().get_serializer_context(), **self._context(self.get_queryset().values_list("name", flat=True))}

    @extend_schema(request=ChannelSerializer, responses={201: ChannelSerializer})
    def post(self, request, tenant):
        data = ChannelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.channel_save(tenant=self.tenant, data=data.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailView(_ChannelMixin, generics.GenericAPIView):
    lookup_url_kwarg = "channel_id"

    def _answer(self, channel, **kwargs) -> Response:
        return Response(ChannelSerializer(channel, context=self._context([channel.name])).data, **kwargs)

    @extend_schema(responses=ChannelSerializer)
    def get(self, request, tenant, channel_id):
        return self._answer(self.get_object())

    @extend_schema(request=ChannelSerializer, responses=ChannelSerializer)
    def patch(self, request, tenant, channel_id):
        channel = self.get_object()
        data = ChannelSerializer(channel, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._answer(services.channel_save(tenant=self.tenant, channel=channel, data=data.validated_data))

    def delete(self, request, tenant, channel_id):
        """Refused (409, naming them) while workflows' latest versions have rules naming the channel."""
        services.channel_delete(channel=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelTestView(_ChannelMixin, generics.GenericAPIView):
    lookup_url_kwarg = "channel_id"

    @extend_schema(request=None, responses=DeliverySerializer)
    def post(self, request, tenant, channel_id):
        """Send a test alert now (one attempt); the delivery says whether the receiver took it."""
        delivery = services.channel_test(channel=self.get_object())
        return Response(DeliverySerializer(delivery).data)


class DeliveryPagination(CursorPagination):
    """Newest first, `limit` a page (at most 500); `next` and `previous` are links to follow."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


class DeliveryFilterSerializer(serializers.Serializer):
    run = serializers.IntegerField(required=False)
    workflow = serializers.IntegerField(required=False)
    channel = serializers.CharField(required=False, help_text="A channel's name.")
    event = serializers.ChoiceField(choices=Event.choices, required=False)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


class DeliveryListView(TenantScopedMixin, generics.ListAPIView):
    """The delivery log: each alert to each channel, how many attempts it took, the last error."""

    tenant_model = Delivery
    read_role = write_role = Role.ADMIN
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPagination

    def get_queryset(self):
        filters = DeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.delivery_list(tenant=self.tenant, filters=filters.validated_data)

    @extend_schema(parameters=[DeliveryFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
