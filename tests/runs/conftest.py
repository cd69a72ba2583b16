"""A real worker for the engine tests: `manage.py loom_worker` in a subprocess, on the test
database, with the broker the environment selects (embedded files, or Redis when REDIS_URL
is set), on a queue of its own so that nothing else consumes its messages."""
from tests.runs.support import worker_fixtures

# Unsandboxed: these tests talk to their notebooks through files on the host (pid files, gates,
# markers), which a sandbox hides. test_sandbox.py runs its own worker with the sandbox on.
worker, engine = worker_fixtures("engine", scope="session", LOOM_SANDBOX="off")
