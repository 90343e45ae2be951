import { ArrayDataset } from './dataset.js';
import { Rng, deriveSeed } from '../util/rng.js';
import type { DataSource } from './source.js';

export interface SyntheticOptions {
  /** @default 20000 */
  samples: number;
  /** @default 64 */
  features: number;
  /** @default 10 */
  actions: number;
  /** Probability that each action is legal (at least one always is). @default 0.7 */
  legalProbability: number;
  /** Std-dev of noise added to the teacher's scores; 0 makes the teacher exact. @default 0.1 */
  noise: number;
}

export const syntheticSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: { const: 'synthetic' },
    valFraction: { type: 'number' },
    samples: { type: 'integer', minimum: 2, default: 20000 },
    features: { type: 'integer', minimum: 1, default: 64 },
    actions: { type: 'integer', minimum: 2, default: 10 },
    legalProbability: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.7 },
    noise: { type: 'number', minimum: 0, default: 0.1 },
  },
} as const;

/**
 * Demonstrations from a seeded random teacher: a fixed linear scorer picks the
 * best legal action. A policy that learns the scorer beats chance quickly, so
 * this source exercises the whole pipeline without any battle data.
 */
export function generateSynthetic(options: SyntheticOptions, seed: number): ArrayDataset {
  const { samples: N, features: F, actions: A, legalProbability, noise } = options;
  const rng = Rng.fromSeed(deriveSeed(seed, 'synthetic'));
  const teacher = new Float32Array(F * A);
  for (let i = 0; i < teacher.length; i++) teacher[i] = rng.nextNormal() / Math.sqrt(F);
  const features = new Float32Array(N * F);
  const labels = new Int32Array(N);
  const masks = new Uint8Array(N * A);
  const scores = new Float64Array(A);
  for (let n = 0; n < N; n++) {
    const x = features.subarray(n * F, (n + 1) * F);
    for (let f = 0; f < F; f++) x[f] = rng.nextNormal();
    const mask = masks.subarray(n * A, (n + 1) * A);
    let legal = 0;
    for (let a = 0; a < A; a++) {
      mask[a] = rng.nextFloat() < legalProbability ? 1 : 0;
      legal += mask[a]!;
    }
    if (legal === 0) mask[rng.nextBelow(A)] = 1;
    scores.fill(0);
    for (let f = 0; f < F; f++) {
      const xf = x[f]!;
      for (let a = 0; a < A; a++) scores[a] = scores[a]! + xf * teacher[f * A + a]!;
    }
    let best = -1;
    let bestScore = -Infinity;
    for (let a = 0; a < A; a++) {
      const s = scores[a]! + (noise > 0 ? noise * rng.nextNormal() : 0);
      if (mask[a] && s > bestScore) {
        best = a;
        bestScore = s;
      }
    }
    labels[n] = best;
  }
  return new ArrayDataset(features, labels, masks, F, A);
}

export const syntheticSource: DataSource<SyntheticOptions> = {
  name: 'synthetic',
  schema: syntheticSchema,
  describe: (o) => `synthetic: ${o.samples} samples, ${o.features} features, ${o.actions} actions`,
  load: async (options, context) => generateSynthetic(options, context.seed),
};
