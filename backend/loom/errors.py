"""Domain errors and the one place that turns them into HTTP answers.

Services raise a subclass of DomainError; `api_exception_handler` (settings' REST_FRAMEWORK
EXCEPTION_HANDLER) answers with its `http_status` and `body()`, so views need no try/except.
Every app may import this module: it imports no app.
"""
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback


class DomainError(Exception):
    """A failure the API reports as it is: `http_status` and `body()` (the message as `detail`)."""

    http_status = status.HTTP_400_BAD_REQUEST

    def body(self) -> dict:
        return {"detail": str(self)}


class Invalid(DomainError):
    """The request names something wrong (400)."""


class FieldsInvalid(Invalid):
    """Bad input, as {field: [messages]} like a serializer's errors (400)."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(" ".join(m for messages in fields.values() for m in messages))

    def body(self) -> dict:
        return dict(self.fields)


class Forbidden(DomainError):
    """The user's role does not allow this (403); `fields` names what they may not change."""

    http_status = status.HTTP_403_FORBIDDEN

    def __init__(self, message: str, fields: list[str] | None = None):
        self.fields = fields
        super().__init__(message)

    def body(self) -> dict:
        return {"detail": str(self)} | ({"fields": self.fields} if self.fields else {})


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    http_status = status.HTTP_409_CONFLICT


class UpstreamFailed(DomainError):
    """A service Loom relies on answered with an error (502)."""

    http_status = status.HTTP_502_BAD_GATEWAY


class Unavailable(DomainError):
    """A service Loom relies on is not configured or cannot be reached (503)."""

    http_status = status.HTTP_503_SERVICE_UNAVAILABLE


class BodyTooLarge(DomainError):
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE (413)."""

    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus: domain errors, Django's DoesNotExist of a lookup (404), Django's
    model validation (400 with the field messages) and Django's refusal of a body over the
    size limit (read from its Content-Length, before the body is read: 413 naming the limit)."""
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.body(), status=exc.http_status)
    if isinstance(exc, ObjectDoesNotExist):
        set_rollback()
        return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)
