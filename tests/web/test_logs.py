"""LOOM_LOG_FORMAT=json: every log line of a Loom process (here Django's request logger, which
reports server errors, and an exception's traceback) is one JSON object a log collector can parse."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging, os, sys
sys.path.insert(0, "backend")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loom.settings")
import django
django.setup()
logging.getLogger("django.request").error("Internal Server Error: %s", "/api/x/", extra={"status_code": 500})
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("runs.worker").exception("reaping failed")
"""


def _log_lines(log_format: str) -> list[str]:
    env = {**os.environ, "LOOM_LOG_FORMAT": log_format}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_json_log_lines():
    lines = _log_lines("json")
    records = [json.loads(line) for line in lines]  # every line parses: the traceback is inside its record
    assert len(records) == 2, lines
    request, crash = records
    assert request["level"] == "ERROR" and request["logger"] == "django.request"
    assert request["message"] == "Internal Server Error: /api/x/" and request["status_code"] == 500
    assert "time" in request
    assert crash["logger"] == "runs.worker" and crash["message"] == "reaping failed"
    assert "ZeroDivisionError" in crash["exc_info"]


def test_plain_text_by_default():
    lines = _log_lines("text")
    assert lines[0] == "Internal Server Error: /api/x/"
    assert any(line.startswith("Traceback") for line in lines)
