import type * as tf from '@tensorflow/tfjs-core';
import { wasmHeapBytes } from './wasm-heap.js';
import { nativeBytes } from './native-bytes.js';
import type { HeldBytes } from './held-bytes.js';

/**
 * `t`'s bytes where wasm or tensorflow holds them; undefined where the caller
 * should read `t` back instead: on cpu, whose read copies nothing, and in
 * tensorflow's cases that nativeBytes lists (values still in JS, an addon
 * without tensorDataInto, a GPU, another dtype).
 */
export function heldBytes(t: tf.Tensor): HeldBytes | undefined {
  return wasmHeapBytes(t) ?? nativeBytes(t);
}
