"""Who is acting: the request being served, kept for `audit.services.record`.

Services do not all take the user, and need not: the middleware keeps the request in a context
variable and `record` reads its user when it writes (by then DRF has authenticated the request
and set `request.user` on the Django request too). Outside a request (a worker, a management
command) there is none, and the actor is "system" unless the caller names another.
"""
from contextvars import ContextVar

_request: ContextVar = ContextVar("loom_audit_request", default=None)


def current_request():
    return _request.get()


class AuditRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
