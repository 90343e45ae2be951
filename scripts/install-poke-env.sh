#!/usr/bin/env bash
# The pinned poke-env (a Python library, no binary) whose player the @poke/showdown tests run
# against `poke play` on a local pokemon-showdown server, in <cache>/poke-env-venv (see
# pinned-venv.sh for the output and exit codes; the last line is the venv's python).
# `npm test` runs it on first need.
#   POKE_POKE_ENV_VERSION  poke-env version (default below)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.sh" poke-env "${POKE_POKE_ENV_VERSION:-0.16.1}" python
