import * as tf from '@tensorflow/tfjs-core';
import { wasmHeapView } from '@poke/core/internal';
import { bytesOf, yieldToEventLoop } from './files.js';
import type { Part } from './files.js';

/** Tensors larger than this many elements (16 MiB of float32) are read back in slices of it, on tensorflow. */
const PIECE_ELEMENTS = 4 * 1024 * 1024;

/**
 * The float32 tensors' bytes, in order. On wasm they are views into the heap,
 * read as the file is written, since reading back copies each tensor into
 * fresh memory. Elsewhere they are read back here, with a turn of the event
 * loop after each tensor, and on tensorflow after each slice of a large one. Reading
 * back from tensorflow copies on this thread, in one go per read: the tensors
 * of a 580 MB checkpoint, read whole and back to back, kept a background save
 * from letting training run for over half a second. A slice of the flattened
 * tensor shares its buffer in TensorFlow when it starts and ends 64-byte
 * aligned (all but perhaps the last), and so costs no copy there. cpu's read
 * copies nothing, so there a tensor is read whole. `backend` is the one the
 * tensors live on; they must stay undisposed until the file is written.
 */
export async function readTensorBytes(tensors: readonly tf.Tensor[], backend: string): Promise<Part[]> {
  const out: Part[] = [];
  for (const t of tensors) {
    // model.json and optimizer.json declare float32: anything else would be written under the wrong type.
    if (t.dtype !== 'float32') throw new Error(`checkpoint: a ${t.dtype} tensor of shape [${t.shape.join(', ')}] cannot be saved; weights and optimizer slots are float32`);
    const onHeap = wasmHeapView(t);
    if (onHeap) {
      out.push(onHeap);
      continue;
    }
    if (t.size <= PIECE_ELEMENTS || backend !== 'tensorflow') out.push(await bytesOfTensor(t));
    else for await (const piece of pieces(t)) out.push(piece);
    await yieldToEventLoop();
  }
  return out;
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
