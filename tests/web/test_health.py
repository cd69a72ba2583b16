"""/healthz and /readyz: what an orchestrator or a load balancer asks each web process."""
import socket

import pytest
from django.test import Client

from tests.runs.test_faults_broker import RedisServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_answers_without_touching_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_probes_reach_a_container_by_address_over_http(db, settings):
    """A probe names the container's address (not an allowed host) and speaks plain http."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["loom.example.com"]
    client = Client()
    assert client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    # Everything else still obeys the host check and the redirect.
    assert client.get("/api/auth/me/", HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_probes_answer_get_only(db):
    response = Client().post("/readyz")
    assert response.status_code == 405
    assert "GET" in response.json()["detail"]


def test_ready_without_airflow_configured(db, settings):
    settings.LOOM_AIRFLOW_URL = settings.LOOM_AIRFLOW_DAGS_DIR = ""
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_not_ready_while_the_broker_is_down_and_ready_again_after(db, settings, tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        settings.REDIS_URL = redis.url
        assert Client().get("/readyz").json()["checks"]["broker"] == "ok"
        redis.stop()
        response = Client().get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["broker"].startswith("broker (Redis) unreachable"), body
        redis.start()
        assert Client().get("/readyz").status_code == 200
    finally:
        redis.stop()


def test_not_ready_when_the_configured_airflow_is_unreachable(db, settings, tmp_path):
    port = _free_port()
    settings.LOOM_AIRFLOW_URL = f"http://127.0.0.1:{port}"
    settings.LOOM_AIRFLOW_DAGS_DIR = str(tmp_path)
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == checks["broker"] == "ok"
    assert checks["airflow"].startswith(f"Airflow at http://127.0.0.1:{port} unreachable"), checks


@pytest.mark.airflow
def test_ready_with_a_live_airflow(db, settings, airflow_server):
    settings.LOOM_AIRFLOW_URL = airflow_server.url
    settings.LOOM_AIRFLOW_DAGS_DIR = str(airflow_server.dags / "loom")
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["airflow"] == "ok"
