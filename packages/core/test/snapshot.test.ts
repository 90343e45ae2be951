import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { buildPolicy, selectBackend } from '@poke/core';
import { FlatAdam, snapshotOptimizer, snapshotWeights } from '@poke/core/internal';
import { requireNativeTensorflow } from '../../../test/requirements.js';
import { adamStep } from './helpers.js';

const F = 12;
const A = 4;

const step = (model: ReturnType<typeof buildPolicy>, adam: FlatAdam, seed: number) => adamStep(model, adam, F, A, seed);

const values = (tensors: readonly tf.Tensor[]) => tensors.map((t) => Array.from(t.dataSync()));

// An async save reads its snapshot while training goes on: the snapshot must hold the
// values of its moment, and taking it must not copy (on wasm a copy blocked training
// for 4.5% of a save).
describe('snapshots of the weights and the optimizer for a background save', () => {
  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    it(`on ${backend}: share the data of their moment, and later steps do not reach them`, async function () {
      if (backend === 'tensorflow') requireNativeTensorflow(this);
      await selectBackend(backend);
      const model = buildPolicy({ featureSize: F, actionCount: A, hiddenSizes: [6], activation: 'relu', dropout: 0, seed: 3 });
      const adam = new FlatAdam(0.05);
      step(model, adam, 1);
      // The optimizer's own reads of its moments on tensorflow, which it keeps until the next step.
      adam.slotBuffers();
      const before = tf.memory().numTensors;

      const weights = snapshotWeights(model);
      const optimizer = snapshotOptimizer(adam);
      const live = [...model.weights.map((w) => w.read()), ...adam.slotBuffers()];
      const taken = [...weights.map((w) => w.tensor), ...optimizer.buffers];
      // tensorflow gives every op's output its own handle, so sharing is not visible from
      // here; its Reshape aliases the buffer in TensorFlow itself.
      if (backend !== 'tensorflow') expect(taken.every((t, i) => t.dataId === live[i]!.dataId), 'the same data, not copies').to.equal(true);
      const atSnapshot = values(live);

      step(model, adam, 2);
      expect(values(taken), 'the snapshot after a later step').to.deep.equal(atSnapshot);
      expect(values([...model.weights.map((w) => w.read()), ...adam.slotBuffers()]), 'the step moved the live values').to.not.deep.equal(atSnapshot);

      tf.dispose(taken);
      expect(tf.memory().numTensors, 'tensors left once the snapshot is disposed').to.equal(before);
      model.dispose();
      adam.dispose();
      await selectBackend('cpu');
    });
  }
});
