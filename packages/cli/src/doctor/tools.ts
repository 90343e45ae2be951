import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { output, onPath } from './commands.js';
import type { DoctorItem } from './item.js';

export function nodeItem(): DoctorItem {
  return { name: 'node', ok: true, detail: `${process.version} (${process.execPath})`, data: { version: process.version.slice(1), path: process.execPath } };
}

export function npmItem(): DoctorItem {
  // Under npx/npm run, npm names itself in the user agent; otherwise ask it.
  const fromAgent = /\bnpm\/(\S+)/.exec(process.env.npm_config_user_agent ?? '')?.[1];
  const version = fromAgent ?? output('npm', ['--version']);
  if (!version) return { name: 'npm', ok: false, detail: 'npm is not on PATH', fix: 'install Node.js with npm (https://nodejs.org)' };
  return { name: 'npm', ok: true, detail: version, data: { version } };
}

/** python3 with venv: what the native backend build and the MLflow venv need. */
export function pythonItem(): DoctorItem {
  const python = process.env.PYTHON || 'python3';
  const path = onPath(python);
  if (!path) return { name: 'python', ok: false, detail: `${python} is not on PATH (the native backend and MLflow need it)`, fix: 'apt-get install -y python3 python3-venv', data: { found: false } };
  const version = output(python, ['--version'])?.replace(/^Python\s+/, '');
  const venv = output(python, ['-c', 'import venv, ensurepip; print(1)']) !== undefined;
  if (!venv) {
    return { name: 'python', ok: false, detail: `${version} at ${path}, without the venv module`, fix: 'apt-get install -y python3-venv', data: { found: true, version, path, venv: false } };
  }
  return { name: 'python', ok: true, detail: `${version} at ${path}, with venv`, data: { found: true, version, path, venv: true } };
}

/** A C++ compiler and make: what compiling the native addon needs. */
export function compilerItem(): DoctorItem {
  const cxx = onPath('c++') ?? onPath('g++');
  const make = onPath('make');
  if (!cxx || !make) {
    const missing = [cxx ? undefined : 'c++ (or g++)', make ? undefined : 'make'].filter(Boolean).join(' and ');
    return { name: 'c++ toolchain', ok: false, detail: `${missing} not on PATH (compiling the native backend needs a compiler and make)`, fix: 'apt-get install -y g++ make', data: { cxx, make } };
  }
  const version = output(cxx, ['--version'])?.split('\n')[0];
  // Optional: without it the addon is built as published (docs/backends.md, tensorDataInto).
  const patch = onPath('patch');
  const patchNote = patch ? ', patch' : '; no patch, so the native addon is built without tensorDataInto (apt-get install -y patch)';
  return { name: 'c++ toolchain', ok: true, detail: `${version ?? cxx}, make${patchNote}`, data: { cxx, make, patch, version } };
}

/**
 * A pinned Python tool in a venv under the cache, which a plugin's tests run
 * against (scripts/install-mlflow.sh, scripts/install-tensorboard.sh).
 */
export function venvToolItem(cacheRoot: string, tool: 'mlflow' | 'tensorboard', fix: string): DoctorItem {
  const name = `${tool} venv`;
  const venv = join(cacheRoot, `${tool}-venv`);
  const bin = join(venv, 'bin', tool);
  if (!existsSync(bin)) return { name, ok: false, detail: `not installed (${venv})`, fix, data: { path: venv, installed: false } };
  // The version from the dist-info folder's name: no python start-up needed.
  const pattern = new RegExp(`^${tool}-([\\d.]+)\\.dist-info$`);
  let version: string | undefined;
  try {
    for (const lib of readdirSync(join(venv, 'lib')).filter((d) => d.startsWith('python'))) {
      const info = readdirSync(join(venv, 'lib', lib, 'site-packages')).find((d) => pattern.test(d));
      if (info) version = pattern.exec(info)![1];
    }
  } catch {
    // A venv without the usual layout: report the binary alone.
  }
  return { name, ok: true, detail: `${tool} ${version ?? '(version unknown)'} at ${bin}`, data: { path: venv, installed: true, version, bin } };
}

/** Debian's chromium, which the compare plugin's HTML report test opens headless. */
export function chromiumItem(): DoctorItem {
  const path = '/usr/bin/chromium';
  if (!existsSync(path)) return { name: 'chromium', ok: false, detail: `${path} is not installed (the poke compare --html test needs it)`, fix: 'apt-get install -y chromium', data: { path, installed: false } };
  const version = output(path, ['--version']);
  return { name: 'chromium', ok: true, detail: `${version ?? 'version unknown'} at ${path}`, data: { path, installed: true, version } };
}
