"""/metrics after real runs on the local engine: the counts and the duration histogram that
Prometheus scrapes, read from the database (any gunicorn process answers the same)."""
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.runs.conftest import engine, worker  # noqa: F401 - the real worker of the engine tests


def _scrape(client: Client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.content.decode()) for s in family.samples}


def test_metrics_count_runs_and_time_node_runs(engine, nb, workflow, run_wf):  # noqa: F811
    nb("ok.ipynb", "x = 1", "y = x + 1")
    nb("boom.ipynb", None, "raise ValueError('boom')")
    good = workflow(nodes=[{"id": "a", "notebook": "ok.ipynb"}, {"id": "b", "notebook": "ok.ipynb"}],
                    edges=[{"source": "a", "target": "b"}])
    bad = workflow(nodes=[{"id": "c", "notebook": "boom.ipynb"}, {"id": "d", "notebook": "ok.ipynb"}],
                   edges=[{"source": "c", "target": "d"}])
    assert run_wf(good)["status"] == "success"
    assert run_wf(bad)["status"] == "failed"

    samples = _scrape(Client())
    assert samples[("loom_runs", (("engine", "local"), ("status", "success")))] == 1
    assert samples[("loom_runs", (("engine", "local"), ("status", "failed")))] == 1
    assert samples[("loom_node_runs", (("status", "success"),))] == 2
    assert samples[("loom_node_runs", (("status", "failed"),))] == 1
    assert samples[("loom_node_runs", (("status", "upstream_failed"),))] == 1
    # Three notebooks ran (d never started); each took well under an hour.
    assert samples[("loom_node_run_duration_seconds_count", (("status", "success"),))] == 2
    assert samples[("loom_node_run_duration_seconds_count", (("status", "failed"),))] == 1
    assert samples[("loom_node_run_duration_seconds_bucket", (("le", "3600.0"), ("status", "success")))] == 2
    assert 0 < samples[("loom_node_run_duration_seconds_sum", (("status", "success"),))] < 120
    assert samples[("loom_queue_messages", (("queue", engine.env["LOOM_QUEUE"]),))] == 0


def test_fanned_out_items_are_timed_not_their_summary(engine, nb, workflow, run_wf):  # noqa: F811
    nb("item.ipynb", "n = 0", "m = n")
    fan = workflow(nodes=[{"id": "f", "notebook": "item.ipynb", "map_over": "items", "map_parameter": "n"}],
                   parameters=[{"name": "items", "type": "list", "default": [1, 2, 3]}])
    assert run_wf(fan)["status"] == "success"
    samples = _scrape(Client())
    assert samples[("loom_node_runs", (("status", "success"),))] == 4  # the summary and three items
    assert samples[("loom_node_run_duration_seconds_count", (("status", "success"),))] == 3


def test_metrics_token(db, settings):
    settings.LOOM_METRICS_TOKEN = "s3cret-metrics-token"
    client = Client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert "LOOM_METRICS_TOKEN" in refused.json()["detail"]
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert allowed.status_code == 200
    assert "# TYPE loom_runs gauge" in allowed.content.decode()


@pytest.mark.parametrize("configured", [False, True])
def test_mirror_lag_only_with_airflow(db, settings, tmp_path, configured):
    from datetime import timedelta

    from django.utils import timezone

    from runs.engines.airflow.mirror import POLL_LEASE, poll_lease_ttl
    from runs.models import Lease

    settings.LOOM_AIRFLOW_URL = "http://127.0.0.1:9" if configured else ""
    settings.LOOM_AIRFLOW_DAGS_DIR = str(tmp_path) if configured else ""
    # A worker last took its turn 30 s ago.
    Lease.objects.create(name=POLL_LEASE, holder="w", expires_at=timezone.now() - timedelta(seconds=30) + poll_lease_ttl())
    lag = _scrape(Client()).get(("loom_airflow_mirror_lag_seconds", ()))
    if configured:
        assert 30 <= lag < 40
    else:
        assert lag is None
