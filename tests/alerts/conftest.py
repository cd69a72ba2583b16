import pytest

from tests.alerts.support import Mailbox, Receiver
from tests.runs.support import worker_fixtures

# A worker for the end-to-end tests (unsandboxed: the notebooks here only fail or succeed), with
# retries after a fifth of a second; no pre-started kernels (a cheap start on a busy machine).
worker, engine = worker_fixtures("alerts", LOOM_SANDBOX="off", LOOM_ALERT_RETRY_S="0.2", LOOM_KERNEL_POOL="0")


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def mailbox(settings):
    box = Mailbox()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", box.port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield box
    box.close()
