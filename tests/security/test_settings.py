"""Production settings (issue 11): DEBUG off unless told, `check --deploy` clean with the
environment the README documents, and JSON errors under /api/ whatever DEBUG says."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

REPO = Path(__file__).resolve().parents[2]
# The README's production environment ("Configuration (production)"), behind a TLS proxy.
PRODUCTION = {
    "LOOM_SECRET_KEY": secrets.token_urlsafe(50),
    "LOOM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "LOOM_ALLOWED_HOSTS": "loom.example.com",
    "LOOM_CSRF_TRUSTED_ORIGINS": "https://loom.example.com",
    "LOOM_HTTPS": "1",
    "LOOM_PROXY_SSL_HEADER": "1",
}


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process, with none of this process's LOOM_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "DJANGO_"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, capture_output=True, text=True,
                          env={**clean, "LOOM_DATA_DIR": str(tmp_path), **env}, timeout=120)


def test_check_deploy_reports_nothing_with_the_production_environment(tmp_path):
    done = manage(tmp_path, "check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    # Without https settings it does complain: the check above can fail.
    done = manage(tmp_path, "check", "--deploy", **{**PRODUCTION, "LOOM_HTTPS": "0"})
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stdout + done.stderr


def test_debug_is_off_unless_told(tmp_path):
    show = ("shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)")
    assert manage(tmp_path, *show).stdout.split() == ["False", "False", "0"]
    assert manage(tmp_path, *show, LOOM_DEBUG="1").stdout.split() == ["True", "False", "0"]
    assert manage(tmp_path, *show, **PRODUCTION).stdout.split() == ["False", "True", "31536000"]
    assert 'export LOOM_DEBUG="${LOOM_DEBUG:-1}"' in (REPO / "scripts" / "run.sh").read_text()


@pytest.mark.parametrize("debug", [False, True])
def test_api_errors_are_json(db, settings, debug):
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "security.crash_urls"
    client = Client(raise_request_exception=False)
    missing = client.get("/api/no/such/thing/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json() == {"detail": "Not found: no API endpoint at this path."}
    crash = client.post("/api/crash/", {"x": 1})
    assert crash.status_code == 500 and crash.json() == {"detail": "Internal server error. The server's log has the details."}
    assert b"a bug in a view" not in crash.content
    # Outside /api/ Django's pages stay (the editor's routes are served by the web app).
    assert not client.get("/admin/no/such/page/")["Content-Type"].startswith("application/json")


def test_the_api_answers_json_to_a_browser_too(api, tenant):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser sends
    listed = api.get("/api/tenants/acme/workflows/", HTTP_ACCEPT=accept)
    assert listed.status_code == 200 and listed["Content-Type"] == "application/json" and listed.json() == []
    missing = api.get("/api/tenants/acme/workflows/999/", HTTP_ACCEPT=accept)
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json() != {"detail": "Not found: no API endpoint at this path."}  # DRF's own message stays
