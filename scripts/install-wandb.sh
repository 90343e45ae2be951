#!/usr/bin/env bash
# The pinned official W&B Python SDK (wandb, with its wandb-core service) that
# packages/plugin-wandb's conformance test runs beside poke against one recording server
# on 127.0.0.1, in <cache>/wandb-venv (see pinned-venv.sh for the output and exit codes).
# `npm test` runs it on first need.
#   POKE_WANDB_VERSION  wandb version (default below)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.sh" wandb "${POKE_WANDB_VERSION:-0.31.0}"
