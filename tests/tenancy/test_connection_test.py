"""Test connection: a worker tries the connection from inside a notebook sandbox (egress network,
the default), against real servers in a network namespace of their own (tests/tenancy/outside.py):
the host's 127.0.0.1 is out of a sandbox's reach, as for notebooks."""
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from runtime.sandbox import sandbox_config, sandbox_problem
from tenancy.checks import connection_test_perform
from tests.runs.support import worker_start
from tests.tenancy.outside import can_make_namespaces, outside_servers

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, ip and PostgreSQL 15 to start servers in a network namespace")
URL = "/api/tenants/acme/connections/"
PASSWORD = "right-password-1"


@pytest.fixture(scope="module")
def outside():
    with outside_servers(mariadb=True, s3=True) as address:
        yield address


@pytest.fixture
def sandboxed(settings):
    """The sandbox as notebooks get it (egress), in a folder `nobody` can reach (the tests run as root)."""
    root = Path(tempfile.mkdtemp(prefix="loom-conntest-"))
    root.chmod(0o711)
    settings.LOOM_SANDBOX = sandbox_config({"LOOM_SANDBOX_NETWORK": "egress"}, root=root)
    settings.LOOM_CONNECTION_TEST_TIMEOUT_S = 5
    assert sandbox_problem(settings.LOOM_SANDBOX) is None
    yield settings.LOOM_SANDBOX
    shutil.rmtree(root, ignore_errors=True)


def answer_of(admin_api, body: dict) -> dict:
    """Create the connection, ask for a test, run the worker's part here, return GET …/test/."""
    cid = admin_api.post(URL, {"name": f"c{time.monotonic_ns() % 10**9}", **body}, format="json").json()["id"]
    asked = admin_api.post(f"{URL}{cid}/test/")
    assert asked.status_code == 202 and asked.json()["status"] == "pending", asked.content
    connection_test_perform(test_id=asked.json()["id"])
    answer = admin_api.get(f"{URL}{cid}/test/")
    assert answer.status_code == 200
    return answer.json()


def test_postgres_connects_from_the_sandbox(admin_api, outside, sandboxed):
    answer = answer_of(admin_api, {"kind": "postgres", "host": outside, "port": 5432, "login": "loom_pw",
                                "schema": "postgres", "secret": PASSWORD})
    assert answer["status"] == "ok" and answer["message"].startswith(f"Connected to PostgreSQL 15."), answer
    assert answer["requested_by"] == "alice" and answer["finished_at"]


def test_wrong_port_fails_with_the_drivers_error(admin_api, outside, sandboxed):
    answer = answer_of(admin_api, {"kind": "postgres", "host": outside, "port": 5433, "login": "postgres"})
    assert answer["status"] == "failed"
    # The driver's own words, naming the host and port ("Connection refused" on the host's network;
    # through the sandbox's user-mode network stack the connect is accepted, then closed).
    assert f'connection to server at "{outside}", port 5433 failed: ' in answer["message"], answer


def test_wrong_password_fails_and_never_shows_it(admin_api, outside, sandboxed):
    answer = answer_of(admin_api, {"kind": "postgres", "host": outside, "login": "loom_pw", "secret": "wrong-password-9"})
    assert answer["status"] == "failed"
    assert 'password authentication failed for user "loom_pw"' in answer["message"]
    assert "wrong-password-9" not in answer["message"]


def test_a_secret_the_server_echoes_is_scrubbed(admin_api, outside, sandboxed):
    token = "tok-3c1e9f0a77d2"
    answer = answer_of(admin_api, {"kind": "http", "host": f"http://{outside}:8080/api", "extra": {"token": token}})
    assert answer["status"] == "failed"
    assert answer["message"] == f"RuntimeError: HTTP 401 Unauthorized from http://{outside}:8080/api: " \
                                "invalid credentials: Bearer ********", answer
    ok = answer_of(admin_api, {"kind": "http", "host": f"http://{outside}:8080/ok"})
    assert ok == ok | {"status": "ok", "message": f"HTTP 200 from http://{outside}:8080/ok."}


def test_mysql_connects_to_a_real_mariadb(admin_api, outside, sandboxed):
    answer = answer_of(admin_api, {"kind": "mysql", "host": outside, "port": 3306, "login": "loom_pw",
                                   "schema": "warehouse", "secret": PASSWORD})
    assert answer["status"] == "ok", answer
    assert answer["message"].startswith("Connected to MySQL 10.11.") and answer["message"].endswith(
        f"-MariaDB-0+deb12u1 at {outside}:3306."), answer


def test_mysql_wrong_password_shows_the_servers_words_without_the_secret(admin_api, outside, sandboxed):
    answer = answer_of(admin_api, {"kind": "mysql", "host": outside, "login": "loom_pw", "schema": "warehouse",
                                   "secret": "wrong-password-9"})
    assert answer["status"] == "failed"
    assert answer["message"].startswith("OperationalError: (1045, \"Access denied for user 'loom_pw'@"), answer
    assert "(using password: YES)" in answer["message"] and "wrong-password-9" not in answer["message"]


def test_s3_lists_a_bucket_on_a_real_s3_server(admin_api, outside, sandboxed):
    key_id, secret = outside_servers.s3_key
    s3 = {"kind": "s3", "host": f"http://{outside}:9000",
          "extra": {"region_name": "us-east-1", "aws_access_key_id": key_id, "aws_secret_access_key": secret}}
    listed = answer_of(admin_api, {**s3, "schema": "loom-data"})
    assert listed["status"] == "ok", listed
    assert listed["message"] == "Listed bucket loom-data: 1 object(s) seen (at most 5 asked).", listed
    buckets = answer_of(admin_api, s3)
    assert buckets["status"] == "ok" and buckets["message"] == "Listed 1 bucket(s).", buckets


def test_s3_bad_credentials_fail_with_the_servers_error(admin_api, outside, sandboxed):
    key_id, _ = outside_servers.s3_key
    wrong = "wrong-secret-access-key-0123456789"
    answer = answer_of(admin_api, {"kind": "s3", "host": f"http://{outside}:9000", "schema": "loom-data", "extra": {
        "region_name": "us-east-1", "aws_access_key_id": key_id, "aws_secret_access_key": wrong}})
    assert answer["status"] == "failed", answer
    assert answer["message"].startswith("ClientError: An error occurred (SignatureDoesNotMatch) when calling the "
                                        "ListObjectsV2 operation"), answer
    assert wrong not in answer["message"]
    unknown = answer_of(admin_api, {"kind": "s3", "host": f"http://{outside}:9000", "schema": "loom-data", "extra": {
        "region_name": "us-east-1", "aws_access_key_id": "AKIANOBODY0000000000", "aws_secret_access_key": wrong}})
    assert unknown["status"] == "failed" and "(InvalidAccessKeyId)" in unknown["message"], unknown


def test_generic_connects_over_tcp_to_a_real_server(admin_api, outside, sandboxed):
    """A generic connection is tested by a TCP connect to host:port (runtime.connection_check)."""
    ok = answer_of(admin_api, {"kind": "generic", "host": outside, "port": 5432})
    assert ok == ok | {"status": "ok", "message": f"Connected to {outside}:5432 (TCP)."}
    # A closed port is no test here: the sandbox's user-mode network accepts a connect before the
    # server refuses it. A name that resolves nowhere fails as it would for a notebook.
    nowhere = answer_of(admin_api, {"kind": "generic", "host": "no-such-host.invalid", "port": 5432})
    assert nowhere["status"] == "failed" and nowhere["message"].startswith("gaierror: "), nowhere
    unset = answer_of(admin_api, {"kind": "generic", "host": outside})
    assert unset["status"] == "failed" and "set both" in unset["message"], unset


def test_the_hosts_loopback_is_out_of_reach_as_for_notebooks(admin_api, sandboxed):
    """Loom's own PostgreSQL listens on the host's 127.0.0.1: a connection there is refused in the sandbox."""
    answer = answer_of(admin_api, {"kind": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres"})
    assert answer["status"] == "failed" and "Connection refused" in answer["message"], answer
    assert "Notebooks cannot reach the worker's own 127.0.0.1: LOOM_SANDBOX_NETWORK is egress" in answer["message"]


def test_only_admins_test_and_never_another_tenants(api, admin_api, client_for, make_user, other_tenant):
    cid = admin_api.post(URL, {"name": "db", "kind": "postgres", "host": "db.example"}, format="json").json()["id"]
    assert admin_api.get(f"{URL}{cid}/test/").status_code == 404  # never tested
    assert api.post(f"{URL}{cid}/test/").status_code == 403  # an editor
    outsider = client_for(make_user("olga", other_tenant, "admin"))
    assert outsider.post(f"{URL}{cid}/test/").status_code == 404
    assert outsider.post(f"/api/tenants/globex/connections/{cid}/test/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_worker_answers_through_the_api(admin_api, outside, tmp_path):
    """End to end: the POST sends the task to the local engine's queue; a real worker runs it."""
    root = Path(tempfile.mkdtemp(prefix="loom-conntest-worker-"))
    root.chmod(0o711)
    try:
        with worker_start(tmp_path / "w", LOOM_KERNEL_POOL="0", LOOM_SANDBOX="on", LOOM_SANDBOX_DIR=str(root)):
            cid = admin_api.post(URL, {"name": "warehouse", "kind": "postgres", "host": outside, "login": "postgres"},
                                 format="json").json()["id"]
            assert admin_api.post(f"{URL}{cid}/test/").status_code == 202
            deadline = time.monotonic() + 60
            while (answer := admin_api.get(f"{URL}{cid}/test/").json())["status"] == "pending":
                assert time.monotonic() < deadline, "no worker answered"
                time.sleep(0.2)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert answer["status"] == "ok" and "Connected to PostgreSQL" in answer["message"], answer
