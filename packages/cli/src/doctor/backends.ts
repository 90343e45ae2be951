import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { selectBackend, isUserError } from '@poke/core';
import { NATIVE_PACKAGES } from '@poke/core/internal';
import { oneLine, type DoctorItem } from './item.js';

const requireHere = createRequire(import.meta.url);

interface NativeModule {
  version: Record<string, string>;
  backend(): { binding?: { TF_Version?: string; isUsingGpuDevice?: () => boolean; tensorDataInto?: unknown } };
}

function packageVersion(pkg: string): string | undefined {
  try {
    return (requireHere(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The libtensorflow the addon links to (a symlink into the wheel's venv when built from PyPI). */
function libtensorflow(pkg: string): string | undefined {
  try {
    const lib = join(dirname(requireHere.resolve(`${pkg}/package.json`)), 'deps', 'lib', 'libtensorflow.so');
    return existsSync(lib) ? realpathSync(lib) : undefined;
  } catch {
    return undefined;
  }
}

async function tensorflow(fix: string): Promise<DoctorItem> {
  const installed = NATIVE_PACKAGES.filter((p) => packageVersion(p) !== undefined);
  if (installed.length === 0) {
    return { name: 'backend.tensorflow', ok: false, detail: `not installed (neither ${NATIVE_PACKAGES.join(' nor ')})`, fix, data: { available: false } };
  }
  try {
    await selectBackend('tensorflow');
  } catch (err) {
    const why = isUserError(err) ? (err as Error).message.replace(/^train\.backend is "tensorflow" but /, '') : String(err);
    return { name: 'backend.tensorflow', ok: false, detail: `installed but does not load: ${oneLine(why)}`, fix, data: { available: false, packages: installed, error: oneLine(why) } };
  }
  // The first package that loads is the one `auto` uses; it is in require's cache now.
  for (const pkg of installed) {
    let tfn: NativeModule;
    try {
      tfn = requireHere(pkg) as NativeModule;
    } catch {
      continue;
    }
    const binding = tfn.backend().binding;
    const gpu = binding?.isUsingGpuDevice?.() ?? false;
    const data = {
      available: true,
      package: pkg,
      packageVersion: packageVersion(pkg),
      tensorflowVersion: binding?.TF_Version,
      // The binding places ops on the first GPU it sees, else on the host CPU.
      device: gpu ? 'GPU' : 'CPU',
      libtensorflow: libtensorflow(pkg),
      // poke's addition to the binding (scripts/tfjs-node-tensor-data-into.patch); without it checkpoints read tensors back slower.
      tensorDataInto: typeof binding?.tensorDataInto === 'function',
    };
    return {
      name: 'backend.tensorflow',
      ok: true,
      detail: `TensorFlow ${data.tensorflowVersion ?? '?'} via ${pkg} ${data.packageVersion}, device ${data.device}${gpu ? '' : ' (no GPU visible)'}${data.libtensorflow ? `, ${data.libtensorflow}` : ''}${data.tensorDataInto || gpu ? '' : '; built without tensorDataInto, so checkpoints read tensors back slower'}`,
      data,
    };
  }
  return { name: 'backend.tensorflow', ok: false, detail: 'the tensorflow backend registered, but no native package could be re-read', fix, data: { available: false } };
}

async function jsBackend(name: 'wasm' | 'cpu'): Promise<DoctorItem> {
  const pkg = `@tensorflow/tfjs-backend-${name}`;
  const version = packageVersion(pkg);
  try {
    await selectBackend(name);
    return { name: `backend.${name}`, ok: true, detail: `${pkg} ${version}`, data: { available: true, package: pkg, packageVersion: version } };
  } catch (err) {
    return { name: `backend.${name}`, ok: false, detail: `${pkg} ${version ?? '(not installed)'} failed to initialise: ${oneLine(String((err as Error).message ?? err))}`, fix: 'npm ci', data: { available: false, package: pkg } };
  }
}

/** Each compute backend: can it be used here, and if not why. Loads them, so it takes a second or two. */
export async function backendItems(nativeFix: string): Promise<DoctorItem[]> {
  // tensorflow first: loading it makes it the current backend, and the others switch after.
  const items = [await tensorflow(nativeFix), await jsBackend('wasm'), await jsBackend('cpu')];
  return items;
}
