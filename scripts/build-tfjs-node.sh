#!/usr/bin/env bash
# Build @tensorflow/tfjs-node's native addon offline against the libtensorflow
# C API that ships inside the PyPI tensorflow-cpu wheel, and install it into
# this repo's node_modules (without touching package.json / package-lock.json).
#
# Why: tfjs-node's own install script downloads libtensorflow 2.9.1 from
# a download host outside the package registries, which CI cannot reach. The wheel's
# libtensorflow_cc.so.2 exports the whole TF_* / TFE_* C API the binding uses.
#
# Idempotent: re-running reuses the venv, the cached addon and an existing
# install. Run it AFTER `npm ci` (npm ci / npm install wipe --no-save packages).
#
# Env:
#   TFJS_NODE_CACHE       cache dir (default: <repo>/.cache/tfjs-node)
#   TFJS_NODE_VERSION     @tensorflow/tfjs-node version (default 4.22.0)
#   TF_WHEEL_PACKAGE      tensorflow-cpu | tensorflow  (default tensorflow-cpu)
#   TF_WHEEL_VERSION      wheel version (default 2.21.0)
#   PYTHON                python used for the venv (default python3)
#   REPO_ROOT             where to install (default: parent of this script)
#   TFJS_NODE_REBUILD=1   force rebuilding the addon
set -euo pipefail

REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CACHE=${TFJS_NODE_CACHE:-$REPO_ROOT/.cache/tfjs-node}
TFJS_NODE_VERSION=${TFJS_NODE_VERSION:-4.22.0}
TF_WHEEL_PACKAGE=${TF_WHEEL_PACKAGE:-tensorflow-cpu}
TF_WHEEL_VERSION=${TF_WHEEL_VERSION:-2.21.0}
PYTHON=${PYTHON:-python3}

log() { printf '[build-tfjs-node %4ss] %s\n' "$SECONDS" "$*" >&2; }
step_start() { STEP_T0=$SECONDS; log "$*"; }
step_end() { log "  done in $((SECONDS - STEP_T0))s"; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { log "only Linux x86_64 is supported"; exit 1; }
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# ---------------------------------------------------------------------------
# 1. venv with the TensorFlow wheel (--no-deps: only the shared libs and
#    headers are needed, not numpy/keras/...; ~275 MB download, ~1.3 GB on disk)
# ---------------------------------------------------------------------------
VENV=$CACHE/venv-$TF_WHEEL_PACKAGE-$TF_WHEEL_VERSION
step_start "1/4 $TF_WHEEL_PACKAGE==$TF_WHEEL_VERSION in $VENV"
if [ ! -f "$VENV/.tf-installed" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check --no-input --no-deps \
    "$TF_WHEEL_PACKAGE==$TF_WHEEL_VERSION"
  touch "$VENV/.tf-installed"
fi
TF_DIR=$(ls -d "$VENV"/lib/python3*/site-packages/tensorflow | head -n1)
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2 include/tensorflow/c/c_api.h include/tensorflow/c/eager/c_api.h; do
  [ -e "$TF_DIR/$f" ] || { log "missing $TF_DIR/$f in the wheel"; exit 1; }
done
step_end

# ---------------------------------------------------------------------------
# 2. @tensorflow/tfjs-node in the repo's node_modules, scripts NOT run
#    (its install script would try to download libtensorflow).
# ---------------------------------------------------------------------------
step_start "2/4 @tensorflow/tfjs-node@$TFJS_NODE_VERSION in $REPO_ROOT/node_modules"
installed=$(cd "$REPO_ROOT" && node -p "try{require('@tensorflow/tfjs-node/package.json').version}catch{''}")
if [ "$installed" != "$TFJS_NODE_VERSION" ]; then
  (cd "$REPO_ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund \
      "@tensorflow/tfjs-node@$TFJS_NODE_VERSION")
fi
PKG=$(cd "$REPO_ROOT" && node -p "require('path').dirname(require.resolve('@tensorflow/tfjs-node/package.json'))")
step_end

# ---------------------------------------------------------------------------
# 3. deps/ layout binding.gyp expects (-ltensorflow -ltensorflow_framework,
#    rpath $ORIGIN/../../deps/lib, headers in deps/include). Symlinks into the
#    venv, so the cache must stay where it is.
# ---------------------------------------------------------------------------
step_start "3/4 deps/ symlinks + addon"
rm -rf "$PKG/deps"
mkdir -p "$PKG/deps/lib"
ln -s "$TF_DIR/include" "$PKG/deps/include"
ln -s "$TF_DIR/libtensorflow_cc.so.2" "$PKG/deps/lib/libtensorflow_cc.so.2"
ln -s "$TF_DIR/libtensorflow_framework.so.2" "$PKG/deps/lib/libtensorflow_framework.so.2"
ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"

# Where tfjs-node's loader (node-pre-gyp find) looks, e.g. lib/napi-v8/tfjs_binding.node
BINDING=$(cd "$PKG" && node -p "require('@mapbox/node-pre-gyp').find(require('path').resolve('package.json'))")
NAPI=$(basename "$(dirname "$BINDING")"); NAPI=${NAPI#napi-v}
ADDON_CACHE=$CACHE/addon/tfjs-node-$TFJS_NODE_VERSION-$TF_WHEEL_PACKAGE-$TF_WHEEL_VERSION-napi$NAPI/tfjs_binding.node

if [ "${TFJS_NODE_REBUILD:-0}" = 1 ] || [ ! -f "$ADDON_CACHE" ]; then
  # node-gyp: the copy bundled with npm, else fetch one from the registry.
  NODE_GYP=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
  [ -f "$NODE_GYP" ] || NODE_GYP=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  if [ -f "$NODE_GYP" ]; then GYP=(node "$NODE_GYP"); else GYP=(npx --yes node-gyp@11); fi
  # Node headers: use the ones installed with node; without them node-gyp would
  # try to download them, which fails offline.
  NODE_PREFIX=$(node -p "require('path').resolve(process.execPath, '..', '..')")
  NODEDIR=()
  if [ -f "$NODE_PREFIX/include/node/node_api.h" ] && [ -f "$NODE_PREFIX/include/node/common.gypi" ]; then
    NODEDIR=(--nodedir="$NODE_PREFIX")
  else
    log "no Node headers under $NODE_PREFIX/include/node; node-gyp will try to download them"
  fi
  (cd "$PKG" && "${GYP[@]}" rebuild "${NODEDIR[@]}" -j "$(nproc)" \
      --module_name=tfjs_binding --module_path="$(dirname "$BINDING")" \
      --napi_build_version="$NAPI" >"$CACHE/node-gyp.log" 2>&1) \
    || { tail -n 40 "$CACHE/node-gyp.log" >&2; exit 1; }
  mkdir -p "$(dirname "$ADDON_CACHE")"
  cp "$PKG/build/Release/tfjs_binding.node" "$ADDON_CACHE"
  rm -rf "$PKG/build"
fi
mkdir -p "$(dirname "$BINDING")"
cp "$ADDON_CACHE" "$BINDING"
step_end

# ---------------------------------------------------------------------------
# 4. Check: loads, registers 'tensorflow' in the SAME tfjs-core the repo's
#    packages use (packages/core resolves @tensorflow/tfjs-core).
# ---------------------------------------------------------------------------
step_start "4/4 smoke test"
CHECK_DIR=$REPO_ROOT
[ -d "$REPO_ROOT/packages/core" ] && CHECK_DIR=$REPO_ROOT/packages/core
(cd "$CHECK_DIR" && TF_CPP_MIN_LOG_LEVEL=2 node --input-type=module -e "
  const tfn = (await import('@tensorflow/tfjs-node')).default;
  const tf = await import('@tensorflow/tfjs-core');
  if (!tf.findBackendFactory('tensorflow')) throw new Error('tensorflow backend not registered in the repo\'s tfjs-core (duplicate tfjs-core?)');
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
  if (y[0] !== 17 || y[1] !== 39) throw new Error('bad matMul ' + y);
  console.log('tfjs-node ' + tfn.version['tfjs-node'] + ' OK, libtensorflow ' + tf.backend().binding.TF_Version + ', backend ' + tf.getBackend());
")
step_end
log "installed: $BINDING -> $TF_DIR"
