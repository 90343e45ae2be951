#!/usr/bin/env node
// Sets up the native TensorFlow backend: checks that this machine can build it,
// then runs scripts/build-tfjs-node.sh (the PyPI wheel's libtensorflow and a
// compiled addon, cached in ${POKE_CACHE_DIR:-~/.cache/poke}/tfjs-node).
//
//   node scripts/setup-native.mjs --prepare   from the root `prepare` (so `npm ci`):
//                                             never fails the install; when the build
//                                             cannot happen, one line says why and
//                                             which command fixes it
//   npm run setup-native                      by hand: exit 1 when it cannot build
//
// POKE_SKIP_NATIVE=1 skips it in --prepare; POKE_TF_GPU=1 builds the GPU variant.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const prepare = process.argv.includes('--prepare');
const gpu = process.env.POKE_TF_GPU === '1';
const RETRY = `${gpu ? 'POKE_TF_GPU=1 ' : ''}npm run setup-native`;

/** One line on stderr; `npm ci` shows it among its own output. */
function say(text) {
  process.stderr.write(`poke: ${text}\n`);
}

/**
 * A native package without its addon would make `auto` try it and report a long
 * load error. npm removes an optional dependency whose install fails; do the same
 * (the build script reinstalls it).
 */
function removeUnbuilt() {
  for (const name of ['tfjs-node', 'tfjs-node-gpu']) {
    const pkg = join(ROOT, 'node_modules', '@tensorflow', name);
    if (!existsSync(pkg)) continue;
    const lib = join(pkg, 'lib');
    const built = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
    if (!built) rmSync(pkg, { recursive: true, force: true });
  }
}

/** The build cannot happen: why, what training uses instead, and the command that fixes it. */
function cannot(why, fix) {
  removeUnbuilt();
  say(`native TensorFlow backend not built: ${why}; training uses wasm${fix ? ` (fix: ${fix})` : ''}`);
  process.exit(prepare ? 0 : 1);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

function onPath(name) {
  return run('sh', ['-c', `command -v ${name}`]).status === 0;
}

if (prepare && process.env.POKE_SKIP_NATIVE === '1') {
  removeUnbuilt();
  say(`native TensorFlow backend skipped (POKE_SKIP_NATIVE=1); training uses wasm (to build it: ${RETRY})`);
  process.exit(0);
}
// An installed copy of this repo without its build script (a packed tarball) has nothing to build.
if (!existsSync(join(ROOT, 'scripts', 'build-tfjs-node.sh'))) process.exit(0);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  cannot(`it is built only on Linux x86_64, and this is ${process.platform} ${process.arch}`);
}
/**
 * A venv and a compiled addon for this configuration already in the cache: the
 * build only links them, so python and a compiler are not needed. The build
 * script answers, from its own defaults.
 */
function cached() {
  return run('bash', [join(ROOT, 'scripts', 'build-tfjs-node.sh'), '--cached'], { cwd: ROOT }).status === 0;
}

const python = process.env.PYTHON || 'python3';
if (!cached()) {
  const probe = run(python, ['-c', 'import venv, ensurepip']);
  if (probe.error) cannot(`${python} is not on PATH`, `apt-get install -y python3 python3-venv && ${RETRY}`);
  if (probe.status !== 0) cannot(`${python} cannot create a venv (no venv/ensurepip module)`, `apt-get install -y python3-venv && ${RETRY}`);
  if (!onPath('c++') && !onPath('g++')) cannot('no C++ compiler (c++ or g++) on PATH', `apt-get install -y g++ make && ${RETRY}`);
  if (!onPath('make')) cannot('make is not on PATH', `apt-get install -y make && ${RETRY}`);
}

const started = Date.now();
say(`setting up the native TensorFlow backend${gpu ? ' (GPU variant)' : ''} from the PyPI wheel (a cached build is reused; POKE_SKIP_NATIVE=1 skips this)`);
const build = spawnSync('bash', [join(ROOT, 'scripts', 'build-tfjs-node.sh')], { stdio: 'inherit', cwd: ROOT, env: { ...process.env, PYTHON: python } });
if (build.status !== 0) {
  cannot('the build failed (output above)', RETRY);
}
say(`native TensorFlow backend ready in ${Math.round((Date.now() - started) / 1000)} s; backend "auto" uses it`);
