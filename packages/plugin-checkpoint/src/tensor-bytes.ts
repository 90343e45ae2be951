import * as tf from '@tensorflow/tfjs-core';
import { heldBytes } from '@poke/core/internal';
import { bytesOf, yieldToEventLoop, WRITE_CHUNK } from './files.js';
import type { Part } from './files.js';

/**
 * Tensors larger than this many elements (1 MiB of float32, a write's chunk) are read
 * back in slices of it, on a tensorflow addon without tensorDataInto. Against 16 MiB slices, this kept the ratio to
 * plain fs and cut the training thread's longest stretch in a background save of
 * 580 MB from 44–49 ms to 18–19 ms, and its time in all from 1.3 s to 0.9 s.
 */
const PIECE_ELEMENTS = WRITE_CHUNK / Float32Array.BYTES_PER_ELEMENT;

/**
 * The float32 tensors' bytes, in order, made one part at a time as the file
 * writer asks for them, so that reading one back overlaps writing the one
 * before. On wasm and tensorflow they are copied a chunk at a time from where
 * the backend holds them into the writer's buffers, as the file is written,
 * since reading back copies each tensor into fresh memory: for a 580 MB
 * checkpoint on tensorflow, those allocations and the garbage collection they
 * brought on took as long as writing the file. Elsewhere they are read back:
 * cpu's read copies nothing, so there a tensor is read whole. A tensorflow
 * addon built without tensorDataInto (scripts/build-tfjs-node.sh) reads back
 * on this thread, in one go per read, so a large tensor is read in slices: a
 * 580 MB checkpoint's tensors, read whole and back to back, kept a background
 * save from letting training run for over half a second. A slice of the
 * flattened tensor shares its buffer in TensorFlow when it starts and ends
 * 64-byte aligned (all but perhaps the last), and so costs no copy there.
 * The event loop turns after each tensor and slice. `backend` is the one the
 * tensors live on; they must stay undisposed until the file is written. The
 * dtypes are checked here, before the file is opened.
 */
export function tensorBytes(tensors: readonly tf.Tensor[], backend: string): AsyncIterable<Part> {
  for (const t of tensors) {
    // model.json and optimizer.json declare float32: anything else would be written under the wrong type.
    if (t.dtype !== 'float32') throw new Error(`checkpoint: a ${t.dtype} tensor of shape [${t.shape.join(', ')}] cannot be saved; weights and optimizer slots are float32`);
  }
  return partsOf(tensors, backend);
}

async function* partsOf(tensors: readonly tf.Tensor[], backend: string): AsyncGenerator<Part> {
  for (const t of tensors) {
    const held = heldBytes(t);
    if (held) yield held;
    else if (t.size <= PIECE_ELEMENTS || backend !== 'tensorflow') yield await bytesOfTensor(t);
    else yield* pieces(t);
    // Training gets a turn between any two reads, whatever the writer awaits in between.
    await yieldToEventLoop();
  }
}

async function bytesOfTensor(t: tf.Tensor): Promise<Uint8Array> {
  return bytesOf((await t.data()) as Float32Array);
}

/** `t`'s bytes as slices of PIECE_ELEMENTS, with a turn of the event loop between them. */
async function* pieces(t: tf.Tensor): AsyncGenerator<Uint8Array> {
  const flat = tf.reshape(t, [t.size]);
  try {
    for (let at = 0; at < t.size; at += PIECE_ELEMENTS) {
      if (at > 0) await yieldToEventLoop();
      const piece = tf.slice(flat, at, Math.min(PIECE_ELEMENTS, t.size - at));
      try {
        yield await bytesOfTensor(piece);
      } finally {
        piece.dispose();
      }
    }
  } finally {
    flat.dispose();
  }
}
