import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { checkStretch } from './held-bytes.js';
import type { HeldBytes } from './held-bytes.js';

/** The wasm module's heap as it is now: its buffer is replaced whenever the heap grows. */
export function wasmHeap(backend: BackendWasm): Uint8Array {
  // Emscripten's module has HEAPU8; tfjs's type for it leaves it out.
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
}

/**
 * `t`'s bytes where they live on the wasm heap, or undefined when `t` is not
 * held by the wasm backend. Reading a tensor back from wasm copies it into a
 * new buffer; for a checkpoint that is hundreds of MB of fresh memory, each
 * page faulted in. The heap's ArrayBuffer is replaced whenever the heap
 * grows, which any tfjs op may do: so each copy starts from the heap as it
 * is at that moment.
 */
export function wasmHeapBytes(t: tf.Tensor): HeldBytes | undefined {
  // The registry holds only backends already started: asking findBackend could start wasm.
  const backend = tf.engine().registry.wasm as BackendWasm | undefined;
  if (!backend || !backend.dataIdMap.has(t.dataId)) return undefined;
  const byteLength = t.size * tf.util.bytesPerElement(t.dtype);
  const copyTo = (target: Uint8Array, offset: number) => {
    checkStretch(t, byteLength, offset, target.byteLength);
    const data = backend.dataIdMap.get(t.dataId);
    // Only a change of backend moves a tensor's data off the heap.
    if (!data) throw new Error('the tensor left the wasm backend while its bytes were being read');
    target.set(new Uint8Array(wasmHeap(backend).buffer, data.memoryOffset + offset, target.byteLength));
  };
  return { byteLength, copyTo };
}
