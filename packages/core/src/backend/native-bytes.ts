import * as tf from '@tensorflow/tfjs-core';
import { checkStretch } from './held-bytes.js';
import type { HeldBytes } from './held-bytes.js';

/** What tfjs-node's backend keeps per tensor: its values until they go to TensorFlow, then TensorFlow's id for it. */
interface NativeTensorInfo {
  values: unknown;
  id: number;
}

/** The parts of tfjs-node's backend a copy out of TensorFlow uses. */
interface NativeHolder {
  binding: { tensorDataInto?(id: number, byteOffset: number, target: Uint8Array): void; isUsingGpuDevice(): boolean };
  tensorMap: { has(dataId: object): boolean; get(dataId: object): NativeTensorInfo };
}

/**
 * `t`'s bytes in TensorFlow, copied out by the addon's tensorDataInto, which
 * scripts/build-tfjs-node.sh adds to tfjs-node's binding. Its own read,
 * tensorDataSync, makes a new ArrayBuffer for each read, and for a 580 MB
 * checkpoint those allocations and the garbage collection they bring on
 * cost as much as writing the file (docs/checkpoints.md). Undefined when
 * tensorflow does not hold `t`, when its values are still in JS (reading
 * them copies nothing), for dtypes other than float32 and int32 (whose sizes
 * in TensorFlow and in tfjs agree), when the binding lacks the function, or
 * when TensorFlow runs on a GPU: there each call would bring the whole tensor
 * to the host for one stretch of it, where a slice brings only the stretch.
 */
export function nativeBytes(t: tf.Tensor): HeldBytes | undefined {
  // The registry holds only backends already started: asking findBackend could load the addon.
  const backend = tf.engine().registry.tensorflow as unknown as NativeHolder | undefined;
  if (!backend || typeof backend.binding.tensorDataInto !== 'function' || !backend.tensorMap.has(t.dataId)) return undefined;
  if (backend.binding.isUsingGpuDevice()) return undefined;
  if (t.dtype !== 'float32' && t.dtype !== 'int32') return undefined;
  const info = backend.tensorMap.get(t.dataId);
  if (info.values != null) return undefined;
  // Once a tensor is in TensorFlow, its id there stays until it is disposed.
  const { id } = info;
  const byteLength = t.size * tf.util.bytesPerElement(t.dtype);
  const copyTo = (target: Uint8Array, offset: number) => {
    checkStretch(t, byteLength, offset, target.byteLength);
    backend.binding.tensorDataInto!(id, offset, target);
  };
  return { byteLength, copyTo };
}
