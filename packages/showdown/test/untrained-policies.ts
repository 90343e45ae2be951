import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildPolicy, selectBackend } from '@poke/core';
import { ACTION_COUNT, FEATURE_SIZE } from '@poke/showdown';

/**
 * Two untrained policies for the calling suite, made in its `before` and disposed in its `after`.
 * Untrained, their argmax still depends on every feature, which batching and the round trip
 * through a worker must keep. They run on cpu, the reference backend: there batched and one-row
 * logits are equal bit for bit.
 */
export function untrainedPolicies(): LayersModel[] {
  const models: LayersModel[] = [];
  before(async () => {
    await selectBackend('cpu');
    for (const seed of [1, 2]) models.push(buildPolicy({ featureSize: FEATURE_SIZE, actionCount: ACTION_COUNT, hiddenSizes: [64, 32], activation: 'relu', dropout: 0.1, seed }));
  });
  after(() => models.splice(0).forEach((m) => m.dispose()));
  return models;
}
