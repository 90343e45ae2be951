import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { useNativeReluGrad } from './native-relu-grad.js';
import type { BackendName } from '../config/schema.js';
import { UserError } from '../errors.js';
import { patchWasmMatMul } from './wasm-matmul.js';
import { patchWasmSlice } from './wasm-slice.js';
import { loadWithoutStderr } from './quiet-load.js';

export interface BackendChoice {
  /** The tfjs backend in use: tensorflow, wasm or cpu. */
  readonly name: 'tensorflow' | 'wasm' | 'cpu';
  /** Why it was chosen, for the log line. */
  readonly reason: string;
}

/** The native packages that register the tensorflow backend, in the order they are tried: the GPU build wins when both are installed. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const requireNative = createRequire(import.meta.url);

let loadedPackage: string | undefined;

/** The native package whose binding registered the tensorflow backend; undefined before one has. */
export function nativePackage(): string | undefined {
  return loadedPackage;
}

/** Load a native binding if one is installed; it registers the `tensorflow` backend on import. */
async function loadNative(): Promise<{ pkg: string } | { missing: string[]; errors: string[] }> {
  const errors: string[] = [];
  // libtensorflow logs info lines to stderr on load; poke reports the backend itself.
  // A user who sets TF_CPP_MIN_LOG_LEVEL chooses what to see, start-up lines included.
  const quiet = process.env.TF_CPP_MIN_LOG_LEVEL === undefined;
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // Synchronous (the bindings are CommonJS), so nothing else writes to stderr while it is away.
      if (quiet) loadWithoutStderr(() => requireNative(pkg));
      else requireNative(pkg);
      if (tf.findBackendFactory('tensorflow')) {
        loadedPackage = pkg;
        return { pkg };
      }
      errors.push(`${pkg} loaded but registered no tensorflow backend (a second copy of @tensorflow/tfjs-core?)`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') errors.push(`${pkg}: ${(err as Error).message}`);
    }
  }
  return { missing: [...NATIVE_PACKAGES], errors };
}

async function activate(name: BackendChoice['name']): Promise<boolean> {
  if (name === 'wasm') {
    patchWasmMatMul();
    patchWasmSlice();
  }
  if (name === 'tensorflow') useNativeReluGrad();
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    // The cpu backend greets Node users with a banner recommending tfjs-node; poke reports its own choice instead.
    if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Pick and initialise the compute backend. `auto` prefers native TensorFlow,
 * then wasm, then cpu, and the reason says what was skipped.
 */
export async function selectBackend(requested: BackendName): Promise<BackendChoice> {
  if (requested === 'cpu' || requested === 'wasm') {
    if (await activate(requested)) return { name: requested, reason: `${requested} (as configured)` };
    throw new UserError(`train.backend: the ${requested} backend failed to initialise`);
  }
  const native = await loadNative();
  if ('pkg' in native && (await activate('tensorflow'))) {
    return { name: 'tensorflow', reason: `tensorflow via ${native.pkg}` };
  }
  if (requested === 'tensorflow') {
    const why = 'errors' in native && native.errors.length ? native.errors.join('; ') : `neither ${NATIVE_PACKAGES.join(' nor ')} is installed`;
    throw new UserError(
      `train.backend is "tensorflow" but ${why}`,
      'in a clone of poke, `npm run setup-native` builds it (elsewhere install @tensorflow/tfjs-node); or use backend "auto", "wasm" or "cpu"',
    );
  }
  const skipped = 'errors' in native && native.errors.length ? native.errors.join('; ') : 'no native tensorflow package installed';
  if (await activate('wasm')) return { name: 'wasm', reason: `wasm (auto: ${skipped})` };
  if (await activate('cpu')) return { name: 'cpu', reason: `cpu (auto: ${skipped}; wasm failed to initialise)` };
  throw new Error('no tfjs backend could be initialised');
}
