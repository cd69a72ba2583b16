"""/healthz, /readyz and /metrics (docs/production.md, "Health and metrics").

They are answered by ops.middleware before Django's host check, https redirect and sessions:
an orchestrator probes a container by its address, over plain http, without cookies.
"""
import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ops.metrics import registry
from ops.probes import readiness


def healthz(request):
    """The process is alive and answers; touches nothing else (a database outage must not get
    every web process restarted)."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """200 when the database, the broker and (if configured) Airflow answer; else 503 naming
    which did not, so a load balancer sends requests elsewhere meanwhile."""
    ready, checks = readiness()
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def metrics(request):
    """Prometheus's text format. With LOOM_METRICS_TOKEN set it asks for `Authorization: Bearer
    <token>`; without, it is open, for an internal network only (it shows run counts, no names)."""
    token = settings.LOOM_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = JsonResponse({"detail": "Give the metrics token as 'Authorization: Bearer <token>' (LOOM_METRICS_TOKEN)."},
                                    status=401)
            response["WWW-Authenticate"] = 'Bearer realm="loom-metrics"'
            return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
