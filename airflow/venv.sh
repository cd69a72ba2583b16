#!/usr/bin/env bash
# Build Airflow's own virtual environment (Airflow 3.3 + papermill + ipykernel), or reuse the
# one already built from the same requirements, constraints and Python; print its path.
#
#   airflow/venv.sh            build or reuse; the venv's path is the only line on stdout
#   airflow/venv.sh --freeze   resolve requirements.txt afresh and rewrite constraints.txt
#
# The venv lives under ${LOOM_CACHE_DIR:-~/.cache/loom}/airflow-<key>, where <key> hashes
# everything it is built from, so a fresh clone on the same machine (CI) reuses it and a
# changed constraints file builds a new one. A marker written last tells a finished build
# from an interrupted one; flock keeps parallel test processes from building it twice.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
python="${LOOM_AIRFLOW_PYTHON:-python3}"

uv="${UV:-$repo/.venv/bin/uv}"
if [ ! -x "$uv" ]; then
  uv="$(command -v uv || true)"
fi
if [ -z "$uv" ]; then
  echo "airflow/venv.sh: uv not found; run 'make install' first (it installs uv into .venv)" >&2
  exit 1
fi

if [ "${1:-}" = "--freeze" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$uv" venv -q --python "$python" "$tmp/venv" >&2
  "$uv" pip install -q --python "$tmp/venv/bin/python" -r "$here/requirements.txt" >&2
  {
    echo "# Frozen from a working Airflow venv built from requirements.txt (Python $("$tmp/venv/bin/python" -c 'import sys; print(sys.version.split()[0])'))."
    echo "# Regenerate with: airflow/venv.sh --freeze"
    "$uv" pip freeze -q --python "$tmp/venv/bin/python"
  } >"$here/constraints.txt"
  echo "wrote $here/constraints.txt" >&2
  exit 0
fi

# PYTHONDONTWRITEBYTECODE is set on these machines; without compiled bytecode every airflow
# command and task starts several seconds slower, so uv compiles everything at install time.
key="$( { "$python" --version 2>&1; cat "$here/requirements.txt" "$here/constraints.txt"; } | sha256sum | cut -c1-16)"
root="${LOOM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loom}"
venv="$root/airflow-$key"
mkdir -p "$root"

exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.loom-complete" ]; then
  echo "airflow/venv.sh: building $venv" >&2
  start=$(date +%s)
  rm -rf "$venv"
  "$uv" venv -q --python "$python" "$venv" >&2
  "$uv" pip install -q --python "$venv/bin/python" --compile-bytecode \
    -r "$here/requirements.txt" -c "$here/constraints.txt" >&2
  touch "$venv/.loom-complete"
  echo "airflow/venv.sh: built in $(( $(date +%s) - start )) s" >&2
fi
echo "$venv"
