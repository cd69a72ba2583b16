"""Test connection: an admin asks, a worker of the local engine tries the connection from inside
a notebook sandbox (runtime.oneshot running runtime.connection_check), so the answer is what a
notebook would meet: same network rules (LOOM_SANDBOX_NETWORK), same drivers. The message keeps
the server's error text with every secret of the connection scrubbed."""
import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from runtime import connection_check
from runtime.execute import secrets_scrub
from runtime.oneshot import sandbox_run
from runtime.sandbox import sandbox_problem
from tenancy.models import Connection, ConnectionTest

CONNECTION_TEST = "tenancy.connection_test"  # the Celery task (tenancy.tasks)
MESSAGE_MAX = 2000


def connection_test_request(*, connection: Connection, user) -> ConnectionTest:
    """A pending test, sent to the local engine's queue once committed."""
    from celery import current_app

    test = ConnectionTest.objects.create(tenant=connection.tenant, connection=connection, requested_by=user)
    transaction.on_commit(lambda: current_app.send_task(CONNECTION_TEST, args=(test.pk,)))
    return test


def connection_test_latest(*, connection: Connection) -> ConnectionTest | None:
    return connection.tests.order_by("-id").first()


def connection_test_perform(*, test_id: int) -> None:
    """Run one pending test (on a worker) and record its answer; a test already answered is left."""
    test = ConnectionTest.objects.select_related("connection").filter(pk=test_id, status=ConnectionTest.Status.PENDING).first()
    if test is None:
        return
    c = test.connection
    ok, message = _try(c)
    test.status = ConnectionTest.Status.OK if ok else ConnectionTest.Status.FAILED
    test.message = secrets_scrub(message, c.secret_values())[:MESSAGE_MAX]
    test.finished_at = timezone.now()
    test.save(update_fields=["status", "message", "finished_at"])


def _try(c: Connection) -> tuple[bool, str]:
    config = settings.LOOM_SANDBOX
    problem = sandbox_problem(config) if config.enabled else None
    if problem:
        return False, f"Connections are tested inside the notebook sandbox, which this worker cannot build: {problem}"
    timeout = settings.LOOM_CONNECTION_TEST_TIMEOUT_S
    given = {"kind": c.kind, "host": c.host, "port": c.port, "login": c.login, "schema": c.schema,
             "secret": c.get_secret(), "extra": c.runtime_extra(), "timeout": timeout}
    done = sandbox_run(config, program=Path(connection_check.__file__), stdin=json.dumps(given), timeout_s=timeout + 10)
    if done.returncode is None:
        return False, f"No answer within {timeout + 10:g} s (LOOM_CONNECTION_TEST_TIMEOUT_S is {timeout:g})."
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        ok, message = bool(answer["ok"]), str(answer["message"])
    except (IndexError, ValueError, KeyError, TypeError):
        return False, f"The test did not finish: {(done.stderr or done.stdout).strip()[-500:]}"
    if not ok and config.enabled and config.network != "host" and _loopback(c.host):
        message += (f"\n(Notebooks cannot reach the worker's own {c.host}: LOOM_SANDBOX_NETWORK is {config.network}; "
                    "give the address the server has on the network, see docs/sandbox.md.)")
    return ok, message


def _loopback(host: str) -> bool:
    host = host.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
