import type * as tf from '@tensorflow/tfjs-core';
import { wasmHeapBytes } from './wasm-heap.js';
import { nativeBytes } from './native-bytes.js';
import type { HeldBytes } from './held-bytes.js';

/**
 * `t`'s bytes where wasm or tensorflow holds them, or undefined where reading
 * it back copies nothing anyway (cpu, and a tensorflow tensor whose values
 * have not yet gone to TensorFlow), or where the tensorflow addon was built
 * without tensorDataInto (scripts/build-tfjs-node.sh).
 */
export function heldBytes(t: tf.Tensor): HeldBytes | undefined {
  return wasmHeapBytes(t) ?? nativeBytes(t);
}
