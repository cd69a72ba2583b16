"""A real Chromium (Debian's) driven by Playwright against the real Django server (live_server).

Browsers cannot be downloaded here, so the suite installs Debian's `chromium` with apt when it
is missing, and never skips. The SPA is built first (`make frontend`, a no-op when current).
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# (fixtures, assertions) are synchronous all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_install() -> str:
    if not Path(CHROMIUM).exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return CHROMIUM


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real local-engine worker for this module's runs, on a queue and broker folder of its
    own: the engine tests kill and restart their own worker and must not meet this one."""
    from tests.runs.support import worker_start

    with worker_start(tmp_path_factory.mktemp("browser-engine"), LOOM_KERNEL_POOL="2") as w:
        yield w


@pytest.fixture(scope="session")
def frontend_built():
    subprocess.run(["make", "-s", "frontend"], cwd=REPO, check=True)
    assert (REPO / "frontend" / "dist" / "index.html").exists()


@pytest.fixture(scope="session")
def browser(frontend_built):
    from playwright.sync_api import sync_playwright

    path = chromium_install()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleLog:
    """Console errors and uncaught exceptions of a page; a test names the ones it expects."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str):
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console():
    return ConsoleLog()


@pytest.fixture
def page(browser, console, live_server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"end-{request.node.name}.png"))
    context.close()
    assert console.unexpected() == [], "console errors in the browser"


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    return take


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo tenant (users admin/editor/viewer, the shipped notebooks) on a fresh database."""
    settings.LOOM_DATA_DIR = tmp_path
    from workflows.demo import demo_setup

    return demo_setup()


def login(page, username: str = "editor", password: str = "loom-demo"):
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Someone in one workspace goes straight into it; others pick one.
    page.wait_for_selector(".tenant-card, .content h1:has-text('Workflows')")
