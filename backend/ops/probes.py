"""Readiness: can this process serve, i.e. reach what a request needs? Each probe returns ''
when its part answers, else why not, in one sentence. Short timeouts: an orchestrator asks often
and must hear "not ready" before its own timeout, not hang with the broken part."""
import json
import urllib.request

import redis
from django.conf import settings
from django.db import connection

TIMEOUT_S = 2.0


def database_problem() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", named
        return f"database unreachable: {type(error).__name__}: {error}".strip()
    return ""


def broker_problem() -> str:
    if not settings.REDIS_URL:
        return ""  # the embedded broker: files in a local folder, nothing to reach
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"broker (Redis) unreachable: {error}"
    finally:
        client.close()
    return ""


def airflow_problem() -> str | None:
    """None when no Airflow is configured (not a part of this installation)."""
    from deployments.client import airflow_config_problem

    if airflow_config_problem():
        return None
    url = settings.LOOM_AIRFLOW_URL.rstrip("/") + "/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            health = json.loads(response.read())
    except (OSError, ValueError) as error:
        return f"Airflow at {settings.LOOM_AIRFLOW_URL} unreachable: {error}"
    if health.get("metadatabase", {}).get("status") != "healthy":
        return f"Airflow at {settings.LOOM_AIRFLOW_URL} answers, but its metadatabase is {health.get('metadatabase')}"
    return ""


def readiness() -> tuple[bool, dict]:
    """(ready, {part: "ok" | why not}); Airflow is listed only when configured."""
    checks = {"database": database_problem(), "broker": broker_problem()}
    airflow = airflow_problem()
    if airflow is not None:
        checks["airflow"] = airflow
    return all(not problem for problem in checks.values()), {k: v or "ok" for k, v in checks.items()}
