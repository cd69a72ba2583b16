"""The browser's side of Loom: the built single-page app, and session login for it.

The SPA is built by Vite into frontend/dist (`make install` does it). Django serves it
directly, so production needs no second server: hashed assets are cached forever, and
index.html, which names them, is never cached.
"""
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.http import FileResponse, Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from loom.roles import is_platform_admin
from web.logins import login_credentials

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Loom</title>
<body style="font:15px system-ui;margin:3rem"><h1>Loom's editor is not built</h1>
<p>Run <code>make install</code> (it builds <code>frontend/</code> into <code>frontend/dist</code>) and reload.
The API is up: <a href="/api/docs/">/api/docs/</a>.</p></body>"""


def _dist() -> Path:
    return Path(settings.LOOM_FRONTEND_DIST)


@ensure_csrf_cookie
def index(request, path=""):
    """index.html for every client-side route; the SPA reads the csrftoken cookie set here."""
    page = _dist() / "index.html"
    if not page.is_file():
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(page.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # its Content-Security-Policy: loom.csp
    return response


def asset(request, path):
    """A hashed build file: its name changes with its content, so it may be cached for good."""
    root = (_dist() / "assets").resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise Http404("No such asset.")
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_platform_admin = serializers.BooleanField(help_text="Admin of every tenant; owns quotas, pools and queues.")


class MeSerializer(serializers.Serializer):
    authenticated = serializers.BooleanField()
    user = UserSerializer(allow_null=True)


def _me(request) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {"authenticated": False, "user": None}
    return {"authenticated": True, "user": {"id": user.pk, "username": user.get_username(), "is_platform_admin": is_platform_admin(user)}}


class MeView(APIView):
    """Who the browser is logged in as. Always 200, so a logged-out start logs no error."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(responses=MeSerializer)
    @method_decorator(ensure_csrf_cookie)
    def get(self, request):
        return Response(_me(request))


class SessionView(APIView):
    """Log the browser in (a session cookie) or out. Scripts use /api/auth/token/ instead."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer("SessionLogin", {"username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: MeSerializer, 400: OpenApiResponse(description="Wrong username or password, or a field missing."),
                   429: OpenApiResponse(description="Too many failed logins (README, Logins).")},
    )
    def post(self, request):
        # Anonymous requests skip DRF's CSRF check; a login form must not (login CSRF).
        SessionAuthentication().enforce_csrf(request)
        # The Django request, so that django-axes counts failures and can lock out (429).
        user = authenticate(request._request, **login_credentials(request))
        if user is None:
            return Response({"detail": "Wrong username or password."}, status=status.HTTP_400_BAD_REQUEST)
        login(request, user)
        return Response(_me(request))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)
