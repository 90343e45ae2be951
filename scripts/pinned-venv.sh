#!/usr/bin/env bash
# Install one pinned Python tool into a virtual environment cached outside the clone:
#   bash scripts/pinned-venv.sh TOOL VERSION [BINARY]
# The venv is <cache>/TOOL-venv and holds the PyPI package TOOL==VERSION. A second run
# with the same version reuses it. Prints pip's progress on stderr and the path of the
# venv's BINARY (default: TOOL; `python` for a library) on its last stdout line.
# Exits 3 when python3 or its venv module is missing: only root can install those, so
# the tests that need the tool list themselves as skipped (POKE_REQUIRE_ALL=1 makes that
# a failure).
#   POKE_CACHE_DIR  cache folder (default ~/.cache/poke)
set -euo pipefail

tool="$1"
version="$2"
cache="${POKE_CACHE_DIR:-$HOME/.cache/poke}"
venv="$cache/$tool-venv"
bin="$venv/bin/${3:-$tool}"
mkdir -p "$cache"

installed() {
  [ -x "$bin" ] && "$venv/bin/python" - "$tool" "$version" <<'PY' 2>/dev/null
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version(sys.argv[1]) == sys.argv[2] else 1)
PY
}

# One installer at a time (parallel CI jobs or developers share the cache).
exec 9>"$cache/$tool-venv.lock"
flock 9

if installed; then
  echo "$tool $version: cached in $venv" >&2
else
  start=$(date +%s)
  echo "$tool $version: installing into $venv" >&2
  if ! command -v python3 >/dev/null; then
    echo "python3 is not installed (apt-get install python3 python3-venv)" >&2
    exit 3
  fi
  if ! python3 -m venv --clear "$venv" >&2; then
    rm -rf "$venv"
    echo "python3 -m venv failed; on Debian install python3-venv (apt-get install python3-venv)" >&2
    exit 3
  fi
  # Not --quiet: a cold install downloads tens to hundreds of MB, and its progress is all the user sees.
  "$venv/bin/pip" install --disable-pip-version-check --no-input "$tool==$version" >&2
  installed || { echo "$tool $version did not install into $venv" >&2; exit 1; }
  echo "$tool $version: installed in $(( $(date +%s) - start )) s" >&2
fi
echo "$bin"
