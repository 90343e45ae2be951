#!/usr/bin/env bash
# Install a pinned TensorBoard into a virtual environment cached outside the clone, for
# the integration tests of packages/plugin-tensorboard: they read poke's event files with
# TensorBoard's own EventAccumulator (the venv's python) and start `tensorboard --logdir`.
# `npm test` runs it on first need; a second run with the same version reuses the venv.
# Prints pip's progress on stderr and the path of the `tensorboard` binary on its last
# stdout line (the venv's python is beside it).
# Exits 3 when python3 or its venv module is missing: only root can install those, so
# the tests list themselves as skipped (POKE_REQUIRE_ALL=1 makes that a failure).
#   POKE_CACHE_DIR            cache folder (default ~/.cache/poke); the venv is <cache>/tensorboard-venv
#   POKE_TENSORBOARD_VERSION  TensorBoard version (default below)
set -euo pipefail

version="${POKE_TENSORBOARD_VERSION:-2.21.0}"
cache="${POKE_CACHE_DIR:-$HOME/.cache/poke}"
venv="$cache/tensorboard-venv"
bin="$venv/bin/tensorboard"
mkdir -p "$cache"

installed() {
  [ -x "$bin" ] && "$venv/bin/python" - "$version" <<'PY' 2>/dev/null
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version("tensorboard") == sys.argv[1] else 1)
PY
}

# One installer at a time (parallel CI jobs or developers share the cache).
exec 9>"$cache/tensorboard-venv.lock"
flock 9

if installed; then
  echo "tensorboard $version: cached in $venv" >&2
else
  start=$(date +%s)
  echo "tensorboard $version: installing into $venv" >&2
  if ! command -v python3 >/dev/null; then
    echo "python3 is not installed (apt-get install python3 python3-venv)" >&2
    exit 3
  fi
  if ! python3 -m venv --clear "$venv" >&2; then
    rm -rf "$venv"
    echo "python3 -m venv failed; on Debian install python3-venv (apt-get install python3-venv)" >&2
    exit 3
  fi
  # Not --quiet: a cold install downloads tens of MB, and its progress is all the user sees.
  # TensorBoard's reader needs no TensorFlow: without it, it uses its own stub.
  "$venv/bin/pip" install --disable-pip-version-check --no-input "tensorboard==$version" >&2
  installed || { echo "tensorboard $version did not install into $venv" >&2; exit 1; }
  echo "tensorboard $version: installed in $(( $(date +%s) - start )) s" >&2
fi
echo "$bin"
