#!/usr/bin/env bash
# The editor's API types come from the backend: `manage.py spectacular` writes the OpenAPI schema
# (frontend/src/api/openapi.json), openapi-typescript turns it into frontend/src/api/schema.d.ts
# (`npm run types` in frontend/). Both are checked in; run this after changing a serializer or a view.
#   --check   regenerate into a temporary folder and fail if the checked-in files differ
set -euo pipefail
cd "$(dirname "$0")/.."
API=$PWD/frontend/src/api
out=$API
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
# The schema depends on the code only: generate it on the defaults (SQLite, no Airflow).
env -u DATABASE_URL -u REDIS_URL .venv/bin/python manage.py spectacular --validate --fail-on-warn \
  --format openapi-json --file "$out/openapi.json"
(cd frontend && npx --no-install openapi-typescript "$out/openapi.json" -o "$out/schema.d.ts" --silent)
if [ "$out" != "$API" ]; then
  for f in openapi.json schema.d.ts; do
    diff -u "$API/$f" "$out/$f" >&2 || { echo "frontend/src/api/$f is stale: run scripts/api_types.sh and commit it." >&2; exit 1; }
  done
fi
