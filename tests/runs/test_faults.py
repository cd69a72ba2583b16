"""Faults that heal: each test injects its fault for real on a real worker (a full quota, a
dropped database connection, a NUL in a notebook's output, a deleted notebook version, a
secret that no longer decrypts, a broker that goes down) and checks what happens now.

Dropping connections needs PostgreSQL (pg_terminate_backend on this test database only):
those tests run in `make test`'s second pass. The broker outage is in test_faults_broker.py.
"""
import json
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpers import upload
from tests.runs.support import nodes_of, wait_run
from tests.runs.test_engine import _alive

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="pg_terminate_backend needs PostgreSQL: runs in make test's second pass (DATABASE_URL set)")


def post_run(client, tenant, wid) -> dict:
    response = client.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def wait_for(condition, timeout: float = 30, what: str = ""):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)
    return value


def _overlap(spans) -> int:
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)


# --- 1. a full quota -------------------------------------------------------------------------

def test_runs_queued_behind_a_full_quota_start_oldest_first(engine, api, client_for, editor, tenant, nb, workflow,
                                                            tmp_path):
    from runs.models import NodeRun

    tenant.concurrency_quota = 2
    tenant.save()
    gate = tmp_path / "gate"
    nb("blocks.ipynb", "n = 0\ngate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)")
    nb("quick.ipynb", "x = 1", "y = x")
    fan = workflow(parameters=[{"name": "ns", "type": "list", "default": [0, 1, 2]}],
                   nodes=[{"id": "each", "notebook": "blocks.ipynb", "map_over": "ns", "map_parameter": "n",
                           "parameters": {"gate": str(gate)}}])
    one = workflow(nodes=[{"id": "quick", "notebook": "quick.ipynb"}])
    blocker = post_run(api, tenant, fan)  # items 0 and 1 take both slots and block; item 2 waits
    wait_run(api, tenant.slug, blocker["id"],
             until=lambda d: [nodes_of(d).get(("each", i), {}).get("status") for i in range(2)] == ["running"] * 2)

    posted, lock = [], threading.Lock()

    def client_posts():  # four clients at once, like a busy API
        from django.db import connections

        client = client_for(editor)
        try:
            for _ in range(2):
                body = post_run(client, tenant, one)
                with lock:
                    posted.append(body)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client_posts) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(posted) == 8 and all(r["status"] == "queued" for r in posted), posted
    gate.write_text("open")
    ids = sorted(r["id"] for r in posted)
    for run_id in [blocker["id"], *ids]:
        assert wait_run(api, tenant.slug, run_id, timeout=60)["status"] == "success"

    executions = list(NodeRun.objects.filter(run_id__in=[blocker["id"], *ids]).exclude(node="each", map_index=None))
    assert _overlap([(r.started_at, r.ended_at) for r in executions]) <= 2  # the quota held
    order = [r.run_id for r in sorted(executions, key=lambda r: r.dispatched_at)]
    assert order == [blocker["id"]] * 3 + ids  # the older run's waiting item first, then by age


def test_a_freed_slot_costs_the_same_however_many_runswait_for(db, api, tenant, nb, workflow):
    """Filling a freed slot advances the oldest waiting run, not every run of the tenant."""
    from runs.engines.local import tenant_fill
    from runs.models import NodeRun, Run, Status

    tenant.concurrency_quota = 1
    tenant.save()
    nb("quick.ipynb", "x = 1", "y = x")
    wid = workflow(nodes=[{"id": "quick", "notebook": "quick.ipynb"}])
    # No worker and no broker here: inside the test's transaction no message is ever sent.
    counts = []
    for waiting in (3, 12):
        running = post_run(api, tenant, wid)
        queued = [post_run(api, tenant, wid) for _ in range(waiting)]
        assert running["status"] == "running" and {r["status"] for r in queued} == {"queued"}
        NodeRun.objects.filter(run_id=running["id"]).update(status=Status.SUCCESS, token="")
        Run.objects.filter(pk=running["id"]).update(status=Status.SUCCESS)
        with CaptureQueriesContext(connection) as queries:
            tenant_fill(tenant.pk)
        counts.append(len(queries))
        started = [r.pk for r in Run.objects.filter(pk__in=[q["id"] for q in queued], status=Status.RUNNING)]
        assert started == [queued[0]["id"]]  # the oldest one, and only one: a single slot was free
        Run.objects.filter(tenant=tenant).update(status=Status.CANCELLED)
        NodeRun.objects.filter(run__tenant=tenant).update(status=Status.CANCELLED, token="")
    assert counts[0] == counts[1], counts


# --- 2. a dropped database connection ------------------------------------------------------

def _terminate_other_backends() -> int:
    """Drop every connection to this test database but the test's own (the worker's, the web thread's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@on_postgres
def test_a_dropped_connection_does_not_make_a_live_worker_look_dead(engine, api, tenant, nb, workflow, tmp_path):
    from runs.models import NodeRun

    ledger, gate, pid_file, hold = tmp_path / "ledger", tmp_path / "gate", tmp_path / "pid", tmp_path / "hold"
    nb("gated.ipynb", "ledger = ''\ngate = ''",
       "import os, time\nopen(ledger, 'a').write('ran\\n')\nwhile not os.path.exists(gate):\n    time.sleep(0.05)\n"
       "answer = 42")
    nb("holds.ipynb", "pid_file = ''\nhold = ''",
       "import os, time\nopen(pid_file, 'w').write(str(os.getpid()))\nwhile not os.path.exists(hold):\n"
       "    time.sleep(0.05)")
    finishes = workflow(nodes=[{"id": "gated", "notebook": "gated.ipynb", "outputs": ["answer"], "retries": 1,
                                "retry_delay_s": 0, "parameters": {"ledger": str(ledger), "gate": str(gate)}}])
    cancelled = workflow(nodes=[{"id": "holds", "notebook": "holds.ipynb",
                                 "parameters": {"pid_file": str(pid_file), "hold": str(hold)}}])
    run = post_run(api, tenant, finishes)
    other = post_run(api, tenant, cancelled)
    wait_run(api, tenant.slug, run["id"], until=lambda d: ledger.exists())
    wait_for(pid_file.exists, what="the second notebook to start")

    dropped_at = timezone.now()
    assert _terminate_other_backends() >= 1
    timeout = float(engine.env["LOOM_HEARTBEAT_TIMEOUT_S"])
    # Heartbeats resume on a new connection...
    wait_for(lambda: (NodeRun.objects.get(run_id=run["id"]).heartbeat_at or dropped_at) > dropped_at + timedelta(seconds=0.5),
          timeout=10, what="a heartbeat after the drop")
    # ...so a reaper pass after the heartbeat timeout finds the attempt alive.
    time.sleep(max(0.0, timeout + 1.5 - (timezone.now() - dropped_at).total_seconds()))
    row = NodeRun.objects.get(run_id=run["id"])
    assert (row.status, row.attempts) == ("running", 1), row.log

    # Cancel still reaches the kernel (its heartbeat sees the row cancelled).
    assert api.post(f"/api/tenants/{tenant.slug}/runs/{other['id']}/cancel/").json()["status"] == "cancelled"
    kernel = int(pid_file.read_text())
    wait_for(lambda: not _alive(kernel), timeout=10, what="the cancelled kernel to die")

    # The result is recorded although the task's own connection died while the notebook ran.
    gate.write_text("open")
    detail = wait_run(api, tenant.slug, run["id"], timeout=30)
    node = nodes_of(detail)["gated"]
    assert detail["status"] == "success" and node["outputs"] == {"answer": 42} and node["attempts"] == 1, node
    assert ledger.read_text() == "ran\n"  # never ran twice


@on_postgres
def test_the_web_process_answers_after_its_pooled_connection_was_dropped(transactional_db, tenant, editor):
    """A real WSGI server thread that keeps its connection between requests (CONN_MAX_AGE)."""
    import urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from accounts.models import ApiToken

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    token = ApiToken.objects.create(user=editor, name="faults")[1]
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    serving = threading.Thread(target=lambda: (server.serve_forever(poll_interval=0.05), connections.close_all()))
    serving.start()

    def get() -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/tenants/{tenant.slug}/workflows/",
                                         headers={"Authorization": f"Token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        assert get() == 200
        assert _terminate_other_backends() >= 1  # the server thread's pooled connection
        assert [get() for _ in range(3)] == [200, 200, 200]
    finally:
        server.shutdown()
        serving.join(10)
        server.server_close()


# --- 3. NUL characters in a notebook ---------------------------------------------------------

def test_nul_characters_from_a_notebook_are_stored_as_replacement_characters(engine, api, tenant, nb, workflow):
    from runs.models import NodeRun

    nb("nul.ipynb", "x = 1", "print('printed a\\x00b')\nvalue = 'x\\x00y'")
    nb("nulerr.ipynb", "x = 1", "raise ValueError('bad\\x00value')")
    nb("takes.ipynb", "value = ''", "length = len(value)")
    wid = workflow(nodes=[{"id": "nul", "notebook": "nul.ipynb", "outputs": ["value"]},
                          {"id": "nulerr", "notebook": "nulerr.ipynb"},
                          {"id": "takes", "notebook": "takes.ipynb", "outputs": ["length"]}],
                   edges=[{"source": "nul", "target": "takes", "bind": {"value": "value"}}])
    started = time.monotonic()
    detail = wait_run(api, tenant.slug, post_run(api, tenant, wid)["id"], timeout=30)
    assert time.monotonic() - started < 15  # no wait for a reaper: the outcome is stored at once
    nodes = nodes_of(detail)
    assert nodes["nul"]["status"] == "success" and nodes["nul"]["outputs"] == {"value": "x\ufffdy"}
    assert nodes["takes"]["outputs"] == {"length": 3}
    assert nodes["nulerr"]["status"] == "failed"
    assert nodes["nulerr"]["error"]["message"] == "Cell 2 raised ValueError: bad\ufffdvalue"  # the cause, not "worker stopped"
    row = NodeRun.objects.get(run_id=detail["id"], node="nul")
    assert "printed a\ufffdb" in row.log and "stored as U+FFFD" in row.log
    printed = [o for c in json.loads(row.notebook)["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert "".join(printed[0]["text"]) == "printed a\x00b\n"  # the executed notebook is kept, NUL JSON-escaped
    assert "\x00" not in row.log + row.notebook + json.dumps(nodes)


def test_a_nul_character_in_an_uploaded_notebook_is_stored_safely(api, tenant):
    nb = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "P", "language": "python"}},
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "notes\x00here"},
            {"cell_type": "code", "id": "b", "metadata": {"tags": ["parameters"]}, "execution_count": None,
             "outputs": [], "source": "x = 'a\\x00b'  # the x value"},
        ],
    }
    # A raw NUL in code would fail at run time (Python refuses it in source): refused at upload, nothing stored.
    raw = json.loads(json.dumps(nb))
    raw["cells"][1]["source"] = "x = 1  # the x\x00 value"
    refused = upload(api, tenant.slug, "nul.ipynb", json.dumps(raw).encode())
    assert refused.status_code == 400 and "null bytes" in refused.json()["file"][0], refused.content
    response = upload(api, tenant.slug, "nul.ipynb", json.dumps(nb).encode())
    assert response.status_code == 201, response.content
    [param] = response.json()["parameters"]
    assert param["default"] == "a\ufffdb" and param["help"] == "the x value"
    from catalog.models import NotebookVersion

    stored = NotebookVersion.objects.get(notebook__name="nul.ipynb")
    assert "".join(json.loads(stored.content)["cells"][0]["source"]) == "notes\x00here"  # the content itself is unchanged


# --- 5. poison messages --------------------------------------------------------------------

def test_a_deleted_notebook_version_or_an_undecryptable_secret_fails_the_node(engine, api, admin_api, tenant, nb,
                                                                              workflow, tmp_path):
    from cryptography.fernet import Fernet

    from catalog.models import Notebook
    from tenancy.models import Connection

    gate = tmp_path / "gate"
    nb("first.ipynb", "gate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)")
    nb("late.ipynb", "x = 1", "y = x")
    nb("flaky.ipynb", "x = 1", "raise RuntimeError('first attempt')")
    nb("uses.ipynb", "x = 1", "y = x")
    nb("cleanup.ipynb", "x = 1", "y = x")
    created = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "warehouse", "kind": "postgres", "host": "db", "port": 5432, "login": "loom", "schema": "sales",
        "secret": "pw-123456"}, format="json")
    assert created.status_code == 201, created.content
    # The key was replaced without keeping the old one: the stored token no longer decrypts.
    Connection.objects.filter(tenant=tenant, name="warehouse").update(
        secret_encrypted=Fernet(Fernet.generate_key()).encrypt(b"pw"))
    wid = workflow(
        nodes=[{"id": "first", "notebook": "first.ipynb", "parameters": {"gate": str(gate)}},
               {"id": "late", "notebook": "late.ipynb"},
               {"id": "flaky", "notebook": "flaky.ipynb", "retries": 1, "retry_delay_s": 3},
               {"id": "uses", "notebook": "uses.ipynb", "connections": ["warehouse"]},
               {"id": "cleanup", "notebook": "cleanup.ipynb", "trigger_rule": "all_done"}],
        edges=[{"source": "first", "target": "late"}, {"source": "late", "target": "cleanup"},
               {"source": "flaky", "target": "cleanup"}, {"source": "uses", "target": "cleanup"}])
    run = post_run(api, tenant, wid)
    wait_run(api, tenant.slug, run["id"], timeout=30, until=lambda d: nodes_of(d)["flaky"]["attempts"] == 1
             and nodes_of(d)["flaky"]["status"] == "queued" and nodes_of(d)["first"]["status"] == "running")
    # Deleted while the run goes on: `late` is decided after `first`, `flaky`'s retry is already sent.
    Notebook.objects.filter(tenant=tenant, name__in=["late.ipynb", "flaky.ipynb"]).delete()
    gate.write_text("open")
    detail = wait_run(api, tenant.slug, run["id"], timeout=30)
    nodes = nodes_of(detail)
    gone = "that version 1 pinned is gone"
    assert nodes["first"]["status"] == "success"
    assert nodes["late"]["status"] == "failed" and gone in nodes["late"]["error"]["message"]
    assert nodes["flaky"]["status"] == "failed" and gone in nodes["flaky"]["error"]["message"]
    assert nodes["flaky"]["attempts"] == 2  # the retry failed before running, and was not retried again
    assert nodes["uses"]["status"] == "failed"
    assert "connection 'warehouse' cannot be decrypted" in nodes["uses"]["error"]["message"]
    assert nodes["cleanup"]["status"] == "success"  # all_done: the run went on
    assert detail["status"] == "failed"


def test_one_bad_run_does_not_stop_the_reaper(transactional_db, tenant, nb, workflow):
    from runs.engines.recovery import runs_reap
    from runs.models import NodeRun, Run, Status
    from workflows.models import Workflow, WorkflowVersion

    nb("quick.ipynb", "x = 1", "y = x")
    long_ago = timezone.now() - timedelta(hours=1)
    workflows = [Workflow.objects.get(pk=workflow(nodes=[{"id": "quick", "notebook": "quick.ipynb"}])) for _ in range(3)]
    WorkflowVersion.objects.filter(workflow=workflows[1]).update(graph={"nodes": 7})  # the middle one is unreadable
    runs = []
    with transaction.atomic():  # each run's attempt was claimed by a worker that died long ago
        for wf in workflows:
            run = Run.objects.create(tenant=tenant, workflow=wf, version=wf.versions.get(), status=Status.RUNNING,
                                     started_at=long_ago)
            NodeRun.objects.create(run=run, node="quick", status=Status.RUNNING, attempts=1, token="t",
                                   started_at=long_ago, heartbeat_at=long_ago, worker="gone:1")
            runs.append(run.pk)
    runs_reap()
    status = dict(Run.objects.filter(pk__in=runs).values_list("pk", "status"))
    assert [status[pk] for pk in runs] == ["failed", "running", "failed"]
    assert "stopped: no heartbeat" in NodeRun.objects.get(run_id=runs[2]).error["message"]
