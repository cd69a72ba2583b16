#!/usr/bin/env bash
# `make run`: the web app, a worker of the local engine and the scheduler (Celery beat), together;
# Ctrl-C stops them all.
# With REDIS_URL unset the worker and the web process share the embedded broker under var/broker.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# Developer defaults: DEBUG on (Django's error pages, no https). Production leaves it unset.
export LOOM_DEBUG="${LOOM_DEBUG:-1}"

$PY manage.py migrate --noinput -v0
$PY manage.py loom_demo

$PY manage.py loom_worker --loglevel WARNING &
WORKER=$!
$PY manage.py loom_scheduler --loglevel WARNING &
SCHEDULER=$!
stop() {
  kill -TERM "$WORKER" "$SCHEDULER" 2>/dev/null || true
  wait "$WORKER" "$SCHEDULER" 2>/dev/null || true
}
trap stop EXIT INT TERM

echo "Loom: http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/)  worker pid $WORKER, scheduler pid $SCHEDULER"
# runserver serves each request on a thread of its own: a connection per request, not per thread.
LOOM_DB_CONN_MAX_AGE=0 $PY manage.py runserver 127.0.0.1:8000
