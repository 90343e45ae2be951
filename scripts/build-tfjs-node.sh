#!/usr/bin/env bash
# Build @tensorflow/tfjs-node's native addon against the libtensorflow C API that
# ships inside a PyPI TensorFlow wheel, in this repo's node_modules. `npm ci` runs
# it through scripts/setup-native.mjs (the root `prepare`); `npm run setup-native`
# runs it by hand.
#
# Why: tfjs-node's own install script downloads libtensorflow 2.9.1 from a host
# outside the package registries, which many machines cannot reach (package.json
# denies that script through allowScripts). The wheel's libtensorflow_cc.so.2
# exports the whole TF_* / TFE_* C API the binding uses.
#
# Idempotent: re-running reuses the venv, the cached addon and an installed
# package; `npm ci` empties node_modules, so it runs after every install. The
# package in node_modules stays as published: poke's addition to the binding
# (tfjs-node-tensor-data-into.patch) goes into a copy of its sources.
#
# Env:
#   POKE_CACHE_DIR        cache root (default ~/.cache/poke); this uses <root>/tfjs-node
#   TFJS_NODE_CACHE       the cache folder itself (overrides the above)
#   POKE_TF_GPU=1         build @tensorflow/tfjs-node-gpu against the `tensorflow` wheel
#                         (GPU-enabled on Linux); CUDA wheels only when an NVIDIA driver is present
#   TFJS_NODE_VERSION     tfjs-node version (default 4.22.0, the one in package-lock.json)
#   TF_WHEEL_PACKAGE      tensorflow-cpu | tensorflow  (default: by POKE_TF_GPU)
#   TF_WHEEL_VERSION      wheel version (default 2.21.0)
#   PYTHON                python used for the venv (default python3)
#   REPO_ROOT             where to install (default: parent of this script)
#   TFJS_NODE_REBUILD=1   force rebuilding the addon
#
# `--cached`: change nothing, and exit 0 when the venv and the addon this run
# would build are in the cache already (a run then needs neither python nor a
# compiler), 1 otherwise. setup-native.mjs asks this before checking for them.
set -euo pipefail
CHECK_CACHED=0
case "${1:-}" in
  '') ;;
  --cached) CHECK_CACHED=1 ;;
  *) echo "build-tfjs-node.sh: unknown argument $1 (the only one is --cached)" >&2; exit 2 ;;
esac

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=${REPO_ROOT:-$(dirname "$SCRIPTS")}
# Absolute: the venv's paths become symlink targets under node_modules.
CACHE=$(realpath -m "${TFJS_NODE_CACHE:-${POKE_CACHE_DIR:-${HOME:-/tmp}/.cache/poke}/tfjs-node}")
TFJS_NODE_VERSION=${TFJS_NODE_VERSION:-4.22.0}
if [ "${POKE_TF_GPU:-0}" = 1 ]; then
  TFJS_PACKAGE=@tensorflow/tfjs-node-gpu
  TF_WHEEL_PACKAGE=${TF_WHEEL_PACKAGE:-tensorflow}
else
  TFJS_PACKAGE=@tensorflow/tfjs-node
  TF_WHEEL_PACKAGE=${TF_WHEEL_PACKAGE:-tensorflow-cpu}
fi
TF_WHEEL_VERSION=${TF_WHEEL_VERSION:-2.21.0}
PYTHON=${PYTHON:-python3}

log() { printf '[build-tfjs-node %4ss] %s\n' "$SECONDS" "$*" >&2; }
step_start() { STEP_T0=$SECONDS; log "$*"; }
step_end() { log "  done in $((SECONDS - STEP_T0))s"; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { log "only Linux x86_64 is supported"; exit 1; }
VENV=$CACHE/venv-$TF_WHEEL_PACKAGE-$TF_WHEEL_VERSION

# The package's folder in node_modules, when the version wanted is there.
installed_package() {
  (cd "$REPO_ROOT" && node -p "try{const m=require('$TFJS_PACKAGE/package.json');m.version==='$TFJS_NODE_VERSION'?require('path').dirname(require.resolve('$TFJS_PACKAGE/package.json')):''}catch{''}")
}

# poke's addition to the binding (tensorDataInto; see the patch's header), applied to
# a copy of the sources in the cache, so node_modules keeps the package as published.
# Without `patch`, or on sources it does not fit (another TFJS_NODE_VERSION), the addon
# is built as published, and poke reads tensors back through tensorDataSync. The
# cached addon's folder names the patch's hash, so a changed patch builds anew.
PATCH=$SCRIPTS/tfjs-node-tensor-data-into.patch
# Sets BINDING (where tfjs-node's loader looks), NAPI, PATCH_TAG and ADDON_CACHE for
# the package in $PKG; says why the patch is left out unless `quiet` is given. With
# no package yet (--cached, before the GPU package is added), NAPI is a glob and the
# patch is taken to fit.
addon_for_package() {
  NAPI='*'
  if [ -n "$PKG" ]; then
    BINDING=$(cd "$PKG" && node -p "require('@mapbox/node-pre-gyp').find(require('path').resolve('package.json'))")
    NAPI=$(basename "$(dirname "$BINDING")"); NAPI=${NAPI#napi-v}
  fi
  PATCH_TAG=-plain
  if ! command -v patch >/dev/null; then
    [ "${1:-}" = quiet ] || log "  no \`patch\` command: the addon goes without tensorDataInto (checkpoints save slower on tensorflow)"
  elif [ -n "$PKG" ] && ! patch -p1 --batch --forward --dry-run --quiet -d "$PKG" <"$PATCH" >/dev/null; then
    [ "${1:-}" = quiet ] || log "  $(basename "$PATCH") does not apply to $TFJS_PACKAGE@$TFJS_NODE_VERSION: the addon goes without tensorDataInto"
  else
    PATCH_TAG=-into-$(sha256sum "$PATCH" | cut -c1-8)
  fi
  ADDON_CACHE=$CACHE/addon/${TFJS_PACKAGE#@tensorflow/}-$TFJS_NODE_VERSION-$TF_WHEEL_PACKAGE-$TF_WHEEL_VERSION-napi$NAPI$PATCH_TAG/tfjs_binding.node
}

if [ "$CHECK_CACHED" = 1 ]; then
  [ "${TFJS_NODE_REBUILD:-0}" != 1 ] && [ -f "$VENV/.tf-installed" ] || exit 1
  PKG=$(installed_package)
  addon_for_package quiet
  compgen -G "$ADDON_CACHE" >/dev/null || exit 1
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time per cache: clones on one machine share the venv and the addons.
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------------------
# 1. venv with the TensorFlow wheel (--no-deps: only the shared libs and
#    headers are needed, not numpy/keras/...; tensorflow-cpu is a ~275 MB
#    download and ~1.3 GB on disk, tensorflow ~575 MB and ~2 GB)
# ---------------------------------------------------------------------------
step_start "1/4 $TF_WHEEL_PACKAGE==$TF_WHEEL_VERSION in $VENV"
if [ ! -f "$VENV/.tf-installed" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  # --progress-bar on: the bar shows even when npm's output is not a terminal.
  "$VENV/bin/pip" install --disable-pip-version-check --no-input --no-deps --progress-bar on \
    "$TF_WHEEL_PACKAGE==$TF_WHEEL_VERSION"
  touch "$VENV/.tf-installed"
fi
# The GPU wheel finds CUDA in pip's nvidia-* wheels (its `and-cuda` extra) through
# $ORIGIN/../nvidia/*/lib runpaths. They are ~3 GB, and useless without a driver,
# so they come only where an NVIDIA driver is loaded.
if [ "$TF_WHEEL_PACKAGE" = tensorflow ] && [ ! -f "$VENV/.cuda-installed" ]; then
  if [ -e /proc/driver/nvidia/version ]; then
    log "  NVIDIA driver found: installing the CUDA wheels of tensorflow[and-cuda]"
    mapfile -t CUDA_REQS < <("$VENV/bin/python" -c 'import importlib.metadata as m; print("\n".join(r.split(";")[0].strip() for r in m.requires("tensorflow") or [] if "and-cuda" in r))')
    "$VENV/bin/pip" install --disable-pip-version-check --no-input --no-deps --progress-bar on "${CUDA_REQS[@]}"
    touch "$VENV/.cuda-installed"
  else
    log "  no NVIDIA driver (/proc/driver/nvidia/version): CUDA wheels skipped, TensorFlow will run on the CPU"
  fi
fi
TF_DIR=$(ls -d "$VENV"/lib/python3*/site-packages/tensorflow | head -n1)
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2 include/tensorflow/c/c_api.h include/tensorflow/c/eager/c_api.h; do
  [ -e "$TF_DIR/$f" ] || { log "missing $TF_DIR/$f in the wheel"; exit 1; }
done
step_end

# ---------------------------------------------------------------------------
# 2. The package in the repo's node_modules, scripts NOT run (its install
#    script would try to download libtensorflow). @tensorflow/tfjs-node is an
#    optional dependency in the lockfile, so `npm ci` has put it there unless
#    an npm that runs install scripts removed it when its download failed.
#    The GPU package is not in the lockfile: it is added here, unsaved.
# ---------------------------------------------------------------------------
step_start "2/4 $TFJS_PACKAGE@$TFJS_NODE_VERSION in $REPO_ROOT/node_modules"
PKG=$(installed_package)
if [ -z "$PKG" ]; then
  # --ignore-scripts also keeps this npm from running the root `prepare` again.
  (cd "$REPO_ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund \
      "$TFJS_PACKAGE@$TFJS_NODE_VERSION")
  PKG=$(installed_package)
  [ -n "$PKG" ] || { log "$TFJS_PACKAGE@$TFJS_NODE_VERSION is not in node_modules after npm install"; exit 1; }
fi
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
# The libraries' runpath $ORIGIN/../nvidia/*/lib is taken from deps/lib, where
# they are loaded from: point deps/nvidia at the CUDA wheels, when there are any.
SITE=$(dirname "$TF_DIR")
[ -d "$SITE/nvidia" ] && ln -s "$SITE/nvidia" "$PKG/deps/nvidia"

addon_for_package

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
  # binding.gyp finds the headers and libraries under the build folder's deps/.
  SRC=$(mktemp -d "$CACHE/build.XXXXXX")
  trap 'rm -rf "$SRC"' EXIT
  cp -r "$PKG/binding.gyp" "$PKG/binding" "$SRC/"
  ln -s "$PKG/deps" "$SRC/deps"
  [ "$PATCH_TAG" = -plain ] || patch -p1 --batch --forward --quiet -d "$SRC" <"$PATCH"
  # The full compiler output goes to the log; each file compiled and the link show as progress.
  (cd "$SRC" && "${GYP[@]}" rebuild "${NODEDIR[@]}" -j "$(nproc)" \
      --module_name=tfjs_binding --module_path="$SRC/out" \
      --napi_build_version="$NAPI" 2>&1 | tee "$CACHE/node-gyp.log" \
      | sed -un 's/^ *\(CXX\|SOLINK_MODULE\)(target) .*\/\([^/]*\)$/    \1 \2/p' >&2; exit "${PIPESTATUS[0]}") \
    || { tail -n 40 "$CACHE/node-gyp.log" >&2; exit 1; }
  mkdir -p "$(dirname "$ADDON_CACHE")"
  cp "$SRC/build/Release/tfjs_binding.node" "$ADDON_CACHE"
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
  const tfn = (await import('$TFJS_PACKAGE')).default;
  const tf = await import('@tensorflow/tfjs-core');
  if (!tf.findBackendFactory('tensorflow')) throw new Error('tensorflow backend not registered in the repo\'s tfjs-core (duplicate tfjs-core?)');
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
  if (y[0] !== 17 || y[1] !== 39) throw new Error('bad matMul ' + y);
  const binding = tf.backend().binding;
  const device = binding.isUsingGpuDevice() ? 'GPU' : 'CPU';
  let into = 'without tensorDataInto';
  if (typeof binding.tensorDataInto === 'function') {
    const t = tf.tensor1d([1, 2, 3]);
    const id = tf.backend().tensorMap.get(tf.add(t, 0).dataId).id;
    const out = new Float32Array(2);
    binding.tensorDataInto(id, 4, new Uint8Array(out.buffer));
    if (out[0] !== 2 || out[1] !== 3) throw new Error('bad tensorDataInto ' + out);
    into = 'with tensorDataInto';
  }
  console.log('  $TFJS_PACKAGE ' + tfn.version['tfjs-node'] + ' OK, libtensorflow ' + binding.TF_Version + ', backend ' + tf.getBackend() + ', device ' + device + ', ' + into);
" 2>"$CACHE/smoke-test.log") || { cat "$CACHE/smoke-test.log" >&2; exit 1; }
# (libtensorflow's start-up lines on stderr are noise when the check passes.)
step_end
log "installed: $BINDING -> $TF_DIR"
