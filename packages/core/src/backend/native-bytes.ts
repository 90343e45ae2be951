import * as tf from '@tensorflow/tfjs-core';
import { checkStretch } from './held-bytes.js';
import type { HeldBytes } from './held-bytes.js';
import type { NativeBackend } from './native-ops.js';

/**
 * `t`'s bytes in TensorFlow, copied out by the addon's tensorDataInto, which
 * scripts/build-tfjs-node.sh adds to tfjs-node's binding. Its own read,
 * tensorDataSync, makes a new ArrayBuffer for each read, and for a 580 MB
 * checkpoint those allocations and the garbage collection they bring on
 * cost as much as writing the file (docs/checkpoints.md). Undefined when
 * tensorflow does not hold `t`, when its values are still in JS (reading
 * them copies nothing), when TensorFlow keeps it as anything but float32 or
 * int32 (tfjs calls int64 and uint8 outputs int32, at another size), when the
 * binding lacks the function, or when TensorFlow runs on a GPU: there each
 * call would bring the whole tensor to the host for one stretch of it, where
 * a slice brings only the stretch.
 */
export function nativeBytes(t: tf.Tensor): HeldBytes | undefined {
  // The registry holds only backends already started: asking findBackend could load the addon.
  const backend = tf.engine().registry.tensorflow as unknown as NativeBackend | undefined;
  const into = backend?.binding.tensorDataInto;
  if (!backend || !into || !backend.tensorMap.has(t.dataId) || backend.binding.isUsingGpuDevice()) return undefined;
  const info = backend.tensorMap.get(t.dataId);
  if (info.values != null) return undefined;
  if (info.dtype !== backend.binding.TF_FLOAT && info.dtype !== backend.binding.TF_INT32) return undefined;
  // Once a tensor is in TensorFlow, its id there stays until it is disposed.
  const { id } = info;
  const byteLength = t.size * 4;
  const copyTo = (target: Uint8Array, offset: number) => {
    checkStretch(t, byteLength, offset, target.byteLength);
    into.call(backend.binding, id, offset, target);
  };
  return { byteLength, copyTo };
}
