#!/usr/bin/env bash
# Installs what the notebook sandbox needs (README, "Where notebooks run"): bubblewrap and
# slirp4netns. As root (CI) through apt; otherwise says what to install and carries on, since
# a worker without them refuses notebooks with that message (or runs with LOOM_SANDBOX=off).
set -euo pipefail
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v slirp4netns >/dev/null || missing+=(slirp4netns)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "The notebook sandbox needs: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})." >&2
    echo "Without them the worker refuses to run notebooks unless LOOM_SANDBOX=off." >&2
fi
