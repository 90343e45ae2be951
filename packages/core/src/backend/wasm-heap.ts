import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** A tensor's bytes on the wasm heap: `view` gives a stretch of them, valid only until the next await. */
export interface HeapBytes {
  readonly byteLength: number;
  view(offset: number, length: number): Uint8Array;
}

/** The wasm module's heap as it is now: its buffer is replaced whenever the heap grows. */
export function wasmHeap(backend: BackendWasm): Uint8Array {
  // Emscripten's module has HEAPU8; tfjs's type for it leaves it out.
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
}

/**
 * `t`'s bytes where they live on the wasm heap, or undefined when `t` is not
 * held by the wasm backend. Reading a tensor back from wasm copies it into a
 * new buffer; for a checkpoint that is hundreds of MB of fresh memory, each
 * page faulted in. A view copies nothing, but the heap's ArrayBuffer is
 * replaced whenever the heap grows, which any tfjs op may do: so each call of
 * `view` makes its view from the heap as it is now, and a caller uses it
 * before it awaits anything. `t` must stay undisposed while views are taken.
 */
export function wasmHeapView(t: tf.Tensor): HeapBytes | undefined {
  // The registry holds only backends already started: asking findBackend could start wasm.
  const backend = tf.engine().registry.wasm as BackendWasm | undefined;
  if (!backend || !backend.dataIdMap.has(t.dataId)) return undefined;
  const byteLength = t.size * tf.util.bytesPerElement(t.dtype);
  const view = (offset: number, length: number) => {
    if (t.isDisposed) throw new Error('the tensor was disposed while its bytes were being read');
    if (offset < 0 || length < 0 || offset + length > byteLength) throw new RangeError(`bytes ${offset}..${offset + length} are outside the tensor's ${byteLength}`);
    const data = backend.dataIdMap.get(t.dataId);
    // Only a change of backend moves a tensor's data off the heap.
    if (!data) throw new Error('the tensor left the wasm backend while its bytes were being read');
    return new Uint8Array(wasmHeap(backend).buffer, data.memoryOffset + offset, length);
  };
  return { byteLength, view };
}
