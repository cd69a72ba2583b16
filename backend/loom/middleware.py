"""Errors under /api/ are JSON, whatever raised them and whether DEBUG is on or off."""
from http import HTTPStatus

from django.http import JsonResponse
from rest_framework.response import Response

API_PREFIX = "/api/"


class ApiJsonErrorsMiddleware:
    """Replace an error page that is not JSON, on an /api/ path, by `{"detail": ...}` with the
    same status. Django answers an unknown URL (404), a crash (500) or a request it refuses
    before any view (400, 403, 413) with HTML; with DEBUG on that page lists every URL pattern
    or a traceback. The original error is logged by Django as usual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
            and not isinstance(response, Response)  # DRF's own answers (its browsable HTML too) stay
        ):
            return JsonResponse({"detail": _detail(response.status_code)}, status=response.status_code)
        return response


def _detail(status: int) -> str:
    if status == 404:
        return "Not found: no API endpoint at this path."
    if status >= 500:
        return "Internal server error. The server's log has the details."
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return "Error."
