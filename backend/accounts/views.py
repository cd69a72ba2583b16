"""API tokens over HTTP: a token for a password (/api/auth/token/), and the user's own tokens
(/api/auth/tokens/). Thin: the rules are in accounts.services."""
from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import ApiTokenAuthentication
from accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    TokenLoginSerializer,
)
from web.logins import login_credentials

Detail = inline_serializer("TokenError", {"detail": serializers.CharField()})


def _created(token, secret: str) -> dict:
    token.token = secret
    return ApiTokenCreatedSerializer(token).data


class TokenLoginView(APIView):
    """A new token for a username and password (scripts); the default name and expiry unless given."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenLoginSerializer, responses={200: ApiTokenCreatedSerializer, 400: OpenApiResponse(description="Wrong username or password, or a field invalid."), 429: Detail})
    def post(self, request):
        # The Django request, so that django-axes counts failures and can lock out (429).
        user = authenticate(request._request, **login_credentials(request))
        if user is None:
            return Response({"detail": "Wrong username or password."}, status=status.HTTP_400_BAD_REQUEST)
        data = TokenLoginSerializer(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        name = data.validated_data.get("name") or services.login_token_name(user)
        token, secret = services.token_create(user=user, name=name, expires_in_days=data.validated_data["expires_in_days"])
        return Response(_created(token, secret))


class TokenListView(APIView):
    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        return Response(ApiTokenSerializer(selectors.token_list(user=request.user), many=True).data)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer, 400: Detail, 403: Detail})
    def post(self, request):
        # A stolen token must not mint longer-lived ones that outlast its revocation.
        if isinstance(request.successful_authenticator, ApiTokenAuthentication):
            raise PermissionDenied("A token cannot create tokens: log in (the app, or your password at /api/auth/token/).")
        data = ApiTokenCreateSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        token, secret = services.token_create(user=request.user, **data.validated_data)
        return Response(_created(token, secret), status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None, 404: Detail})
    def delete(self, request, token_id: int):
        services.token_revoke(get_object_or_404(selectors.token_list(user=request.user), pk=token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
