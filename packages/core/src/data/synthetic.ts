import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '../plugins/define-options.js';
import type { ResolvedOptionsOf } from '../plugins/define-options.js';
import { ArrayDataset } from './dataset.js';
import { Rng, deriveSeed } from '../util/rng.js';
import type { DataSource } from './source.js';

/** The `data` section when `source: 'synthetic'`: the one definition of its keys, types and defaults. */
export const syntheticSchema = defineOptions({
  source: Type.Optional(Type.Literal('synthetic')),
  valFraction: Type.Optional(Type.Number()),
  samples: withDefault(Type.Integer({ minimum: 2, description: 'demonstrations to generate' }), 20000),
  features: withDefault(Type.Integer({ minimum: 1, description: 'length of each observation' }), 64),
  actions: withDefault(Type.Integer({ minimum: 2, description: 'actions to choose from' }), 10),
  legalProbability: withDefault(
    Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'probability that each action is legal (at least one always is)' }),
    0.7,
  ),
  noise: withDefault(Type.Number({ minimum: 0, description: "std-dev of noise added to the teacher's scores; 0 makes the teacher exact" }), 0.1),
});

export type SyntheticOptions = ResolvedOptionsOf<typeof syntheticSchema>;

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
