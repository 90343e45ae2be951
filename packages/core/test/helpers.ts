import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { expect } from 'chai';
import { resolveConfig, silentLogger, Trainer } from '@poke/core';
import { forward, lossAndCorrect, maskLogits } from '@poke/core/internal';
import type { FlatAdam } from '@poke/core/internal';
import type { UserConfig, PokePlugin, ResolvedConfig, TrainerOptions } from '@poke/core';
import { makeProjectDir } from '../../../test/temp-dirs.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * A fresh project folder outside the clone, so no config, cache or run of the clone's
 * is found from it; config files written there still import @poke/core (the
 * host's copy, through the core's module hooks), as in a user's own project.
 */
export function tempDir(prefix = 'test'): Promise<string> {
  return makeProjectDir(`poke-test-${prefix}-`);
}

/** A small, fast configuration on the cpu backend. */
export function smallConfig(overrides: UserConfig = {}): UserConfig {
  return {
    ...overrides,
    seed: overrides.seed ?? 7,
    data: { source: 'synthetic', samples: 600, features: 12, actions: 5, ...overrides.data },
    model: { hiddenSizes: [16], dropout: 0.1, ...overrides.model },
    train: { epochs: 2, batchSize: 64, logEvery: 3, backend: 'cpu', ...overrides.train },
  };
}

export async function resolved(user: UserConfig, baseDir: string): Promise<{ config: ResolvedConfig; plugins: PokePlugin[] }> {
  return resolveConfig({ user, file: undefined, baseDir });
}

export async function makeTrainer(
  user: UserConfig,
  baseDir: string,
  options: Omit<TrainerOptions, 'baseDir'> = {},
): Promise<Trainer> {
  const { config, plugins } = await resolved(user, baseDir);
  return new Trainer(config, { logger: silentLogger, baseDir, ...options, plugins: [...plugins, ...(options.plugins ?? [])] });
}

export async function weightsOf(trainer: Trainer): Promise<Float32Array[]> {
  return Promise.all(trainer.model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

/** One Adam step of `model` on 8 random rows (`seed`), labels 0, 1, 2, … mod `actions`, every action legal. */
export function adamStep(model: LayersModel, adam: FlatAdam, features: number, actions: number, seed: number): void {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => {
    const x = tf.randomUniform([8, features], -1, 1, 'float32', seed) as tf.Tensor2D;
    const y = tf.tensor1d(Array.from({ length: 8 }, (_, i) => i % actions), 'int32');
    adam.minimize(() => lossAndCorrect(maskLogits(forward(model, x), tf.ones([8, actions]) as tf.Tensor2D), y, actions).loss, false, variables);
  });
}

/** The largest difference between two lists of weight arrays of the same shapes. */
export function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((w) => w.length)).to.deep.equal(b.map((w) => w.length));
  return Math.max(...a.map((w, i) => w.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i]![j]!)), 0)));
}
