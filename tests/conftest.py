import time

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from helpers import notebook_bytes, upload
from tenancy.models import Membership, Role, Tenant
from tests.runs.support import wait_run


@pytest.fixture
def make_user(db):
    def make(username: str, tenant: Tenant | None = None, role: str = Role.EDITOR, **extra):
        user = get_user_model().objects.create_user(username=username, password="secret-pass", **extra)
        if tenant:
            Membership.objects.create(tenant=tenant, user=user, role=role)
        return user

    return make


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def admin(make_user, tenant):
    return make_user("alice", tenant, Role.ADMIN)


@pytest.fixture
def editor(make_user, tenant):
    return make_user("eddie", tenant, Role.EDITOR)


@pytest.fixture
def viewer(make_user, tenant):
    return make_user("vera", tenant, Role.VIEWER)


@pytest.fixture
def api(client_for, editor) -> APIClient:
    """An editor of tenant `acme`."""
    return client_for(editor)


@pytest.fixture
def admin_api(client_for, admin) -> APIClient:
    return client_for(admin)


@pytest.fixture
def root_api(client_for, make_user) -> APIClient:
    """A platform admin (a superuser, in no tenant)."""
    return client_for(make_user("root", is_superuser=True))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def nb(api, tenant):
    """Upload a notebook: nb("name.ipynb", "x = 1", "y = x + 1")."""
    def make(name: str, parameters: str | None, *cells: str) -> str:
        response = upload(api, tenant.slug, name, notebook_bytes(parameters, *cells))
        assert response.status_code in (200, 201), response.content
        return name

    return make


@pytest.fixture
def workflow(api, tenant):
    """Save a workflow graph and return its id."""
    def make(nodes: list[dict], edges: list[dict] = (), parameters: list[dict] = (), **graph) -> int:
        graph = {"name": f"wf-{time.monotonic_ns()}", "nodes": nodes, "edges": list(edges), "parameters": list(parameters),
                 **graph}
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["errors"] == [], response.json()["errors"]
        return response.json()["id"]

    return make


@pytest.fixture
def run_wf(api, tenant):
    """Start a run and wait for it to finish: run_wf(workflow_id, parameters={}) -> run detail."""
    def start(workflow_id: int, parameters: dict | None = None, wait: bool = True, timeout: float = 60,
              engine: str = "local") -> dict:
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/{workflow_id}/runs/",
                            {"engine": engine, "parameters": parameters or {}}, format="json")
        assert response.status_code == 201, response.content
        return wait_run(api, tenant.slug, response.json()["id"], timeout=timeout) if wait else response.json()

    return start


# --- A real Airflow (tests marked `airflow`) ----------------------------------------------------

@pytest.fixture(scope="session")
def airflow_server(tmp_path_factory):
    """Airflow 3.3 (api-server, scheduler, dag-processor; LocalExecutor, SQLite) on 127.0.0.1 for the
    session, from airflow/venv.sh's venv; stopped by PID at the end, also when a test failed."""
    from tests.airflow_support import airflow_home

    server = airflow_home(tmp_path_factory.mktemp("airflow-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loom_airflow(airflow_server, django_db_setup, django_db_blocker, tmp_path_factory):
    """Loom pointed at that Airflow (this process's settings, and a worker of its own that mirrors
    it every 0.5 s); Loom writes DAGs into a folder inside Airflow's DAG folder. Per module, so
    that the worker is gone before other modules' engine tests run."""
    from django.conf import settings

    from tests.airflow_support import PASSWORD, USERNAME
    from tests.runs.support import worker_start

    values = {
        "LOOM_AIRFLOW_URL": airflow_server.url, "LOOM_AIRFLOW_USERNAME": USERNAME, "LOOM_AIRFLOW_PASSWORD": PASSWORD,
        "LOOM_AIRFLOW_DAGS_DIR": str(airflow_server.dags / "loom"),
        "LOOM_AIRFLOW_ARTIFACTS_DIR": str(airflow_server.root / "artifacts"),
        "LOOM_AIRFLOW_POLL_S": "0.5", "LOOM_AIRFLOW_PARSE_TIMEOUT_S": "60",
    }
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, type(saved[name])(value) if not isinstance(saved[name], str) else value)
    try:
        # Its local-engine notebooks run unsandboxed, as Airflow's tasks do here: the parity and
        # fault notebooks signal through files of the test's folder (tests/runs/test_sandbox.py
        # covers the sandbox).
        with worker_start(tmp_path_factory.mktemp("airflow-worker"), LOOM_SANDBOX="off", **values) as worker:
            yield airflow_server, worker
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


@pytest.fixture
def stopped_worker(loom_airflow):
    """The module's worker stopped for the test (nothing consumes or mirrors); started again after."""
    _, worker = loom_airflow
    worker.stop()
    yield worker
    if worker.process.poll() is not None:
        worker.start()


@pytest.fixture
def airflow_engine(loom_airflow, transactional_db, tenant, editor, monkeypatch):
    """Loom on a live Airflow with a live worker. At the end every deployment is undeployed (its
    DAG and DAG runs leave Airflow), so the next test starts from an Airflow without Loom's DAGs.

    Every Airflow call this process makes meanwhile is checked to be outside a database
    transaction (inside one, on SQLite, it would hold the write lock while Airflow answers)."""
    from django.db import connection

    from deployments.client import AirflowClient, airflow_client
    from deployments.models import Deployment
    from deployments.services import deployment_undeploy
    from runs.models import ACTIVE, Run
    from runs.services import run_cancel

    inside, call = [], AirflowClient._call

    def checked(self, method, what, args, kwargs):
        if connection.in_atomic_block:
            inside.append(what)
        return call(self, method, what, args, kwargs)

    monkeypatch.setattr(AirflowClient, "_call", checked)
    server, worker = loom_airflow
    server.revive()
    if worker.process.poll() is not None:
        worker.start()
    yield server
    for run in Run.objects.filter(status__in=ACTIVE):
        run_cancel(run=run)
    for deployment in Deployment.objects.select_related("tenant"):
        deployment_undeploy(deployment=deployment)
    assert airflow_client().dags.get_dags(dag_id_pattern="loom__").total_entries == 0
    assert inside == [], f"Airflow called inside a database transaction: {inside}"
