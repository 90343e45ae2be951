import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** A stretch of a tensor's bytes, as a view that is valid only until the next await. */
export type HeapView = (offset: number, length: number) => Uint8Array;

/**
 * Views into the wasm heap where `t`'s data lives, or undefined when `t` is not
 * held by the wasm backend. Reading a tensor back from wasm copies it into a
 * new buffer; for a checkpoint that is hundreds of MB of fresh memory, each
 * page faulted in. A view copies nothing, but the heap's ArrayBuffer is
 * replaced whenever the heap grows, which any tfjs op may do: so each call
 * makes its view from the heap as it is now, and a caller uses it before it
 * awaits anything. `t` must stay undisposed while views are taken.
 */
export function wasmHeapView(t: tf.Tensor): HeapView | undefined {
  // The registry holds only backends already started: asking findBackend could start wasm.
  const backend = tf.engine().registry.wasm as BackendWasm | undefined;
  if (!backend || !backend.dataIdMap.has(t.dataId)) return undefined;
  const bytes = t.size * tf.util.bytesPerElement(t.dtype);
  return (offset, length) => {
    if (t.isDisposed) throw new Error('the tensor was disposed while its bytes were being read');
    if (offset < 0 || length < 0 || offset + length > bytes) throw new RangeError(`bytes ${offset}..${offset + length} are outside the tensor's ${bytes}`);
    const data = backend.dataIdMap.get(t.dataId);
    // Only a change of backend moves a tensor's data off the heap.
    if (!data) throw new Error('the tensor left the wasm backend while its bytes were being read');
    const { memoryOffset } = data;
    // Emscripten's module has HEAPU8; tfjs's type for it leaves it out.
    const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
    return new Uint8Array(heap.buffer, memoryOffset + offset, length);
  };
}
