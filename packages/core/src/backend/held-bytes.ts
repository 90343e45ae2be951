import type * as tf from '@tensorflow/tfjs-core';

/**
 * A tensor's bytes where its backend holds them, copied out a stretch at a
 * time into memory the caller owns, so that reading a large tensor makes no
 * new buffer per read. The tensor must stay undisposed while it is read.
 */
export interface HeldBytes {
  readonly byteLength: number;
  /** Copy the bytes from `offset` on into `target`, filling it. */
  copyTo(target: Uint8Array, offset: number): void;
}

/** Throws unless `offset..offset + length` lies within `byteLength`, and `t` can still be read. */
export function checkStretch(t: tf.Tensor, byteLength: number, offset: number, length: number): void {
  if (t.isDisposed) throw new Error('the tensor was disposed while its bytes were being read');
  // A NaN or fractional offset would pass the comparisons, and copy from the wrong place.
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > byteLength) throw new RangeError(`bytes ${offset}..${offset + length} are outside the tensor's ${byteLength}`);
}
