#!/usr/bin/env bash
# The production layout without containers (docs/production.md, "Smoke test"): gunicorn with
# DEBUG off, two Loom workers on PostgreSQL + Redis, a real Airflow 3.3; a workflow run on both
# engines through the HTTP API; health, metrics, static files and JSON logs checked. Everything
# is started and stopped by scripts/prod_smoke.py; the trap here is the last resort if that
# process itself is killed (its children run in process groups of their own, named in its log).
#
#   PROD_SMOKE_DATABASE (loom_prodsmoke, dropped and recreated), PROD_SMOKE_REDIS_URL
#   (redis://127.0.0.1:6379/15, flushed), PROD_SMOKE_KEEP=1 keeps the logs' folder.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
.venv/bin/python scripts/prod_smoke.py &
driver=$!
stop() {
  # The driver stops what it started when it ends normally or on TERM; if it is gone, so are its children.
  kill -TERM "$driver" 2>/dev/null || true
  wait "$driver" 2>/dev/null || true
}
trap stop INT TERM
status=0
wait "$driver" || status=$?
trap - INT TERM
echo "prod smoke: exit $status after $(( $(date +%s) - start )) s"
exit "$status"
