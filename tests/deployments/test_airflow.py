"""Deploying to a real Airflow 3.3: files, connections, pool, parsing, import errors, undeploy."""
import time

import pytest

from dags.selectors import DagFile
from deployments import services
from deployments.client import AirflowError, airflow_client
from tests.runs.support import wait_run

pytestmark = pytest.mark.airflow

SECRET = "s3cret-pw/with:odd@chars"


def wait_deployment(api, url: str, timeout: float = 60) -> dict:
    """Poll the deployment until Airflow has parsed it (or reported why not)."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(url).json()
        if body["status"] != "deploying":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_deploy_writes_files_syncs_connections_and_pool_and_airflow_takes_it(airflow_engine, api, admin_api, root_api,
                                                                             tenant, nb, workflow, settings):
    server = airflow_engine
    client = airflow_client()
    assert admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "warehouse", "kind": "postgres", "host": "db.example", "port": 5432, "login": "reader",
        "schema": "sales", "secret": SECRET, "extra": {"sslmode": "require"}}, format="json").status_code == 201
    assert admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "old_ftp", "kind": "generic", "host": "ftp.example"}, format="json").status_code == 201
    tenant.concurrency_quota, tenant.pools = 3, {"heavy": 1}
    tenant.save()
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"], "connections": ["warehouse"],
                           "pool": "heavy"}])
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.get(url).json() is None  # not deployed

    response = api.post(url, {}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "deploying" and response.json()["version"] == 1
    dag_id = f"loom__{tenant.slug}__{wid}"
    body = wait_deployment(api, url)
    assert body["status"] == "deployed", body
    assert body["dag_id"] == dag_id and body["error"] == "" and body["deployed_by"] == "eddie"
    assert body["airflow_url"] == f"{server.url}/dags/{dag_id}"
    print(f"\nsave-to-DAG-visible (new DAG, through the API and the 0.5 s mirror): {body['parse_seconds']:.2f} s")

    # The files: under the tenant's folder inside Airflow's DAG folder, the secret in neither.
    folder = server.dags / "loom" / tenant.slug
    dag_file = folder / f"{dag_id}.py"
    pinned = api.get(f"/api/tenants/{tenant.slug}/workflows/{wid}/").json()["notebook_pins"]["step.ipynb"]["sha256"]
    assert dag_file.is_file() and (folder / "loom-notebooks" / tenant.slug / pinned / "step.ipynb").is_file()
    assert SECRET not in dag_file.read_text() and not list(folder.glob("**/*.tmp"))

    # Airflow: the DAG unpaused, the connection with its secret, the pools, the artifacts variable.
    assert client.dags.get_dag(dag_id).is_paused is False
    conn = client.connections.get_connection(f"loom__{tenant.slug}__warehouse")
    assert (conn.conn_type, conn.host, conn.port, conn.login, conn.var_schema) == ("postgres", "db.example", 5432, "reader", "sales")
    assert conn.password == SECRET or conn.password == "***"  # Airflow may mask it in answers
    # Pools subdivide the quota: the node's pool has its slot, the tenant's pool the other two.
    assert client.pools.get_pool(f"loom__{tenant.slug}").slots == 2
    assert client.pools.get_pool(f"loom__{tenant.slug}__heavy").slots == 1
    assert client.variables.get_variable("loom_artifacts_dir").value == str(settings.LOOM_AIRFLOW_ARTIFACTS_DIR)

    # Later changes reach Airflow without a deploy: the quota (pool size), connections removed.
    assert root_api.patch(f"/api/tenants/{tenant.slug}/", {"concurrency_quota": 5}, format="json").status_code == 200
    ids = {c["name"]: c["id"] for c in admin_api.get(f"/api/tenants/{tenant.slug}/connections/").json()}
    assert _exists(client, f"loom__{tenant.slug}__old_ftp")
    in_use = admin_api.delete(f"/api/tenants/{tenant.slug}/connections/{ids['warehouse']}/")
    assert in_use.status_code == 409 and in_use.json()["workflows"], in_use.content  # the deployed workflow needs it
    assert admin_api.delete(f"/api/tenants/{tenant.slug}/connections/{ids['old_ftp']}/").status_code == 204
    deadline = time.monotonic() + 20
    while client.pools.get_pool(f"loom__{tenant.slug}").slots != 4 or _exists(client, f"loom__{tenant.slug}__old_ftp"):
        assert time.monotonic() < deadline, "the pool or the connection did not follow Loom"
        time.sleep(0.2)


def _exists(client, conn_id: str) -> bool:
    try:
        client.connections.get_connection(conn_id)
        return True
    except AirflowError as e:
        assert e.status == 404
        return False


def test_a_new_version_replaces_the_dag_and_undeploy_removes_it(airflow_engine, api, tenant, nb, workflow):
    server = airflow_engine
    client = airflow_client()
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}])
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    dag_id = f"loom__{tenant.slug}__{wid}"
    assert api.post(url, {}, format="json").status_code == 202
    assert wait_deployment(api, url)["status"] == "deployed"

    graph = api.get(f"/api/tenants/{tenant.slug}/workflows/{wid}/").json()["graph"]
    graph["nodes"].append({"id": "t", "notebook": "step.ipynb", "outputs": ["y"]})
    assert api.put(f"/api/tenants/{tenant.slug}/workflows/{wid}/", {**graph, "base_version": 1}, format="json").status_code == 200
    assert api.post(url, {}, format="json").json()["version"] == 2
    body = wait_deployment(api, url)
    assert body["status"] == "deployed" and body["version"] == 2
    print(f"\nsave-to-DAG-visible (new version of a deployed DAG): {body['parse_seconds']:.2f} s")
    assert "version 2" in client.dag_sources.get_dag_source(dag_id).content

    assert api.delete(url).status_code == 204
    assert api.get(url).json() is None
    assert not (server.dags / "loom" / tenant.slug / f"{dag_id}.py").exists()
    with pytest.raises(AirflowError) as gone:
        client.dags.get_dag(dag_id)
    assert gone.value.status == 404
    assert api.delete(url).status_code == 404


def test_the_import_error_airflow_reports_fails_the_deploy(airflow_engine, api, tenant, nb, workflow, monkeypatch):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}])

    # Stands for any DAG file Airflow cannot import (say, an Airflow older than the template needs).
    def broken(**kwargs):
        dag = real(**kwargs)
        return DagFile(filename=dag.filename, source=dag.source + "\nraise ImportError('this Airflow lacks what the DAG needs')\n",
                       version=dag.version)

    real = services.dag_file_get
    monkeypatch.setattr(services, "dag_file_get", broken)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.post(url, {}, format="json").status_code == 202
    body = wait_deployment(api, url)
    assert body["status"] == "failed", body
    assert "ImportError: this Airflow lacks what the DAG needs" in body["error"]

    # A run of it deploys the version again (the worker renders the real file) and succeeds.
    monkeypatch.setattr(services, "dag_file_get", real)
    response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {"engine": "airflow"}, format="json")
    assert response.status_code == 201, response.content
    detail = wait_run(api, tenant.slug, response.json()["id"], timeout=120)
    assert detail["status"] == "success" and detail["nodes"][0]["outputs"] == {"y": 2}, (detail["error"], detail["nodes"])
    assert wait_deployment(api, url)["status"] == "deployed"


def test_deleting_a_deployed_workflow_removes_its_dag(airflow_engine, api, tenant, nb, workflow):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "s", "notebook": "step.ipynb", "outputs": ["y"]}])
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/deployment/"
    assert api.post(url, {}, format="json").status_code == 202
    assert wait_deployment(api, url)["status"] == "deployed"
    dag_id = f"loom__{tenant.slug}__{wid}"
    assert api.delete(f"/api/tenants/{tenant.slug}/workflows/{wid}/").status_code == 204
    assert not (airflow_engine.dags / "loom" / tenant.slug / f"{dag_id}.py").exists()
    with pytest.raises(AirflowError) as gone:
        airflow_client().dags.get_dag(dag_id)
    assert gone.value.status == 404


def test_a_poll_asks_airflow_about_waiting_deployments_in_bulk_and_looks_closer_only_at_parsed_ones(
        airflow_engine, tenant, nb, workflow, monkeypatch, settings):
    import urllib3
    from collections import Counter

    from deployments.models import Deployment, DeploymentStatus
    from workflows.models import WorkflowVersion

    nb("step.ipynb", "x: int = 1", "y = x + 1")
    versions = [WorkflowVersion.objects.get(workflow_id=workflow(nodes=[{"id": "s", "notebook": "step.ipynb"}]))
                for _ in range(4)]
    requests, checked, real_open, real_check = [0], Counter(), urllib3.connectionpool.HTTPConnectionPool.urlopen, services.deployment_check

    def counted_open(pool, *args, **kwargs):
        requests[0] += 1
        return real_open(pool, *args, **kwargs)

    def counted_check(*, deployment):
        checked[deployment.dag_id] += 1
        return real_check(deployment=deployment)

    for version in versions:
        services.deployment_deploy(version=version)
    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", counted_open)
    monkeypatch.setattr(services, "deployment_check", counted_check)
    polls, deadline = [], time.monotonic() + settings.LOOM_AIRFLOW_PARSE_TIMEOUT_S + 30
    waiting = Deployment.objects.filter(status=DeploymentStatus.DEPLOYING, tenant=tenant).select_related("tenant")
    while waiting.exists():
        assert time.monotonic() < deadline, polls
        before, looked = requests[0], sum(checked.values())
        services.deployments_check(deployments=waiting.all())  # read afresh each poll, as the mirror does
        polls.append((requests[0] - before, sum(checked.values()) - looked))
        time.sleep(0.2)

    assert set(Deployment.objects.filter(tenant=tenant).values_list("status", flat=True)) == {DeploymentStatus.DEPLOYED}
    # Two listings a poll (Loom's DAGs, the import errors), plus at most three requests (source,
    # import error, unpause) for each deployment Airflow parsed since the last look, which comes
    # once for a new DAG; never one request per waiting deployment per poll.
    assert all(made <= 2 + 3 * full for made, full in polls), polls
    # The fixture's worker mirrors Airflow too and may take some: each this process took, it took once.
    assert checked and max(checked.values()) == 1, checked
    print(f"\n{len(polls)} polls while 4 deployments awaited Airflow's parse: {polls} (requests, full checks)")
