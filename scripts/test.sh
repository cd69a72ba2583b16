#!/usr/bin/env bash
# The whole suite: everything on the embedded defaults (SQLite), then everything that touches
# the database again on the real PostgreSQL server. Slow suites that do not depend on the
# database (real Airflow, real browser) run once, in the first pass.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

bash scripts/services.sh

echo "== frontend: Vitest (pure graph logic)"
(cd frontend && npx --no-install vitest run --reporter=dot)

echo "== pass 1: SQLite (embedded default), full suite"
env -u DATABASE_URL $PY -m pytest "$@"

echo "== pass 2: PostgreSQL at 127.0.0.1:5432"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/loom" \
  $PY -m pytest -m "not airflow and not browser" "$@"
