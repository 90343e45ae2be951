import * as tf from '@tensorflow/tfjs-core';
import { bytesOf, yieldToEventLoop } from './files.js';

/** Tensors are read back in pieces of at most this many elements (16 MB of float32). */
const PIECE = 4 * 1024 * 1024;

/**
 * The tensors' bytes, in order, with a turn of the event loop after each
 * tensor, and on tensorflow after each piece of a large one. Reading back
 * from tensorflow copies on this thread, in one go per read: the tensors of a
 * 580 MB checkpoint, read whole and back to back, kept a background save from
 * letting training run for over half a second. A piece is a slice of the flat
 * tensor, which tensorflow takes without copying (a first-dimension slice
 * shares its input's buffer). wasm's slice kernel is slower than reading a
 * whole tensor back by 5× or more, and cpu's read copies nothing, so there a
 * tensor is read whole.
 */
export async function readTensorBytes(tensors: readonly tf.Tensor[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const t of tensors) {
    if (t.size <= PIECE || tf.getBackend() !== 'tensorflow') out.push(await bytesOfTensor(t));
    else for await (const piece of pieces(t)) out.push(piece);
    await yieldToEventLoop();
  }
  return out;
}

async function bytesOfTensor(t: tf.Tensor): Promise<Uint8Array> {
  return bytesOf((await t.data()) as Float32Array);
}

/** `t`'s bytes as slices of PIECE elements, with a turn of the event loop after each. */
async function* pieces(t: tf.Tensor): AsyncGenerator<Uint8Array> {
  const flat = tf.reshape(t, [t.size]);
  try {
    for (let at = 0; at < t.size; at += PIECE) {
      const piece = tf.slice(flat, at, Math.min(PIECE, t.size - at));
      try {
        yield await bytesOfTensor(piece);
      } finally {
        piece.dispose();
      }
      await yieldToEventLoop();
    }
  } finally {
    flat.dispose();
  }
}
