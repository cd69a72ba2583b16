#!/usr/bin/env bash
# The whole suite: everything on the embedded defaults (SQLite, embedded broker), then everything
# that touches the database or the broker again on the real PostgreSQL and Redis servers. Slow
# suites that depend on neither (real Airflow, real browser) run once, in the first pass.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

bash scripts/services.sh

echo "== API types: frontend/src/api/{openapi.json,schema.d.ts} match the backend's schema"
bash scripts/api_types.sh --check

echo "== frontend: Vitest (pure graph logic)"
(cd frontend && npx --no-install vitest run --reporter=dot)

echo "== pass 1: SQLite and the embedded broker (the defaults), full suite"
env -u DATABASE_URL -u REDIS_URL $PY -m pytest "$@"

# The engine tests (tests/runs) start a real worker; this pass runs it on the real Redis.
echo "== pass 2: PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/loom" REDIS_URL="redis://127.0.0.1:6379/0" \
  $PY -m pytest -m "not airflow and not browser" "$@"
