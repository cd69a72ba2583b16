"""Without a usable Airflow the Airflow engine answers 503 with the reason, writes nothing, and
the local engine works as ever."""
from tests.airflow_support import free_port


def test_unconfigured_or_unreachable_airflow_is_503_and_local_runs_still_work(engine, api, tenant, nb, workflow, run_wf,
                                                                               settings, tmp_path):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}])
    runs, deployment = f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"

    settings.LOOM_AIRFLOW_URL, settings.LOOM_AIRFLOW_DAGS_DIR = "", ""
    response = api.post(runs, {"engine": "airflow"}, format="json")
    assert response.status_code == 503
    assert "not configured" in response.json()["detail"] and "LOOM_AIRFLOW_URL" in response.json()["detail"]
    response = api.post(deployment, {"engine": "airflow"}, format="json")
    assert response.status_code == 503 and "LOOM_AIRFLOW_URL" in response.json()["detail"]

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.LOOM_AIRFLOW_URL, settings.LOOM_AIRFLOW_DAGS_DIR = url, str(tmp_path / "dags")
    response = api.post(runs, {"engine": "airflow"}, format="json")
    assert response.status_code == 503
    assert response.json()["detail"] == f"Airflow at {url} is unreachable: Failed to establish a new connection: " \
                                        "[Errno 111] Connection refused"
    response = api.post(deployment, {}, format="json")  # configured: Airflow is the default engine
    assert response.status_code == 503 and response.json()["detail"].startswith(f"Airflow at {url} is unreachable")
    assert api.get(runs).json() == [] and not (tmp_path / "dags").exists()  # nothing half-written
    assert api.get(deployment).json() is None

    detail = run_wf(wid)
    assert detail["status"] == "success" and detail["nodes"][0]["outputs"] == {"y": 2}


def test_the_engines_say_whether_this_installation_has_them(api, settings, tmp_path, client):
    settings.LOOM_AIRFLOW_URL, settings.LOOM_AIRFLOW_DAGS_DIR = "", ""
    engines = {e["name"]: e for e in api.get("/api/engines/").json()}
    assert engines["local"] == {"name": "local", "available": True, "problem": ""}
    assert engines["airflow"]["available"] is False and "LOOM_AIRFLOW_URL" in engines["airflow"]["problem"]

    # Configured is enough: the list never waits on Airflow (nothing listens here).
    settings.LOOM_AIRFLOW_URL, settings.LOOM_AIRFLOW_DAGS_DIR = f"http://127.0.0.1:{free_port()}", str(tmp_path)
    assert {e["name"]: e["available"] for e in api.get("/api/engines/").json()} == {"local": True, "airflow": True}
    assert client.get("/api/engines/").status_code in (401, 403)
