#!/usr/bin/env bash
# The pinned MLflow whose server packages/plugin-mlflow's integration tests start
# themselves, in <cache>/mlflow-venv (see pinned-venv.sh for the output and exit codes).
# `npm test` runs it on first need.
#   POKE_MLFLOW_VERSION  MLflow version (default below)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.sh" mlflow "${POKE_MLFLOW_VERSION:-3.17.2}"
