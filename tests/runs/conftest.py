"""A real worker for the engine tests: `manage.py loom_worker` in a subprocess, on the test
database, with the broker the environment selects (embedded files, or Redis when REDIS_URL
is set), on a queue of its own so that nothing else consumes its messages."""
import time

import pytest

from tests.runs.support import worker_start


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    # Unsandboxed: these tests talk to their notebooks through files on the host (pid files, gates,
    # markers), which a sandbox hides. test_sandbox.py runs its own worker with the sandbox on.
    with worker_start(tmp_path_factory.mktemp("engine"), LOOM_SANDBOX="off") as w:
        yield w


@pytest.fixture
def engine(worker, transactional_db, tenant, editor):
    """A live worker; at the end, whatever still runs is cancelled before the tables are emptied."""
    if worker.process.poll() is not None:
        worker.start()
    yield worker
    from runs.models import ACTIVE, Run
    from runs.services import run_cancel

    active = list(Run.objects.filter(status__in=ACTIVE))
    for run in active:
        run_cancel(run=run)
    if active:
        time.sleep(1.5)  # the worker notices within 0.5 s and kills the kernels
