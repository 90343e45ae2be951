import * as tf from '@tensorflow/tfjs-core';
import { heldBytes } from '@poke/core/internal';
import { bytesOf, yieldToEventLoop, WRITE_CHUNK } from './files.js';
import type { Part } from './files.js';

/**
 * Where tensors are read back on tensorflow (an addon without tensorDataInto, or a
 * GPU), a tensor larger than this many elements (1 MiB of float32, a write's chunk)
 * is read in slices of it. Against 16 MiB slices, this kept the ratio to plain fs
 * and cut the training thread's longest stretch in a background save of 580 MB
 * from 44–49 ms to 18–19 ms, and its time in all from 1.3 s to 0.9 s.
 */
const PIECE_ELEMENTS = WRITE_CHUNK / Float32Array.BYTES_PER_ELEMENT;

/**
 * The float32 tensors' bytes, in order, made one part at a time as the file
 * writer asks for them, so that making one overlaps writing the one before.
 * Where the backend holds a tensor's bytes (wasm, tensorflow on the CPU), the
 * writer copies them a chunk at a time into its own buffers: reading back
 * would copy each tensor into fresh memory, whose allocation and collection
 * cost as much as the write (docs/checkpoints.md). cpu's read copies nothing,
 * so there a tensor is read whole. tensorflow's read copies on this thread in
 * one go, so where it is read back a large tensor is read in slices, letting
 * training run in between; a slice of the flattened tensor shares its buffer
 * in TensorFlow when it starts and ends 64-byte aligned (all but perhaps the
 * last), and so costs no copy there. The event loop turns after each tensor
 * and slice. `backend` is the one the tensors live on; they must stay
 * undisposed until the file is written. The dtypes are checked here, before
 * the file is opened.
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
