#!/usr/bin/env bash
# The pinned TensorBoard whose reader (EventAccumulator, run with the venv's python,
# beside the binary) and `tensorboard --logdir` packages/plugin-tensorboard's tests use,
# in <cache>/tensorboard-venv (see pinned-venv.sh for the output and exit codes). Its
# reader needs no TensorFlow. `npm test` runs it on first need.
#   POKE_TENSORBOARD_VERSION  TensorBoard version (default below)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.sh" tensorboard "${POKE_TENSORBOARD_VERSION:-2.21.0}"
