import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { buildPolicy, predictActions, countParameters, selectBackend } from '@poke/core';
import { maskLogits, lossAndCorrect } from '@poke/core/internal';

describe('BC policy model', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it('has the configured layers and parameter count', () => {
    const model = buildPolicy({ featureSize: 10, actionCount: 4, hiddenSizes: [8, 6], activation: 'tanh', dropout: 0.2, seed: 1 });
    expect(model.layers.map((l) => l.getClassName())).to.deep.equal(['Dense', 'Dropout', 'Dense', 'Dropout', 'Dense']);
    expect(countParameters(model)).to.equal(10 * 8 + 8 + 8 * 6 + 6 + 6 * 4 + 4);
  });

  it('never predicts an illegal action, however large its logit', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([
        [100, 1, 2, 3],
        [5, 6, 1e6, 0],
      ]);
      const masks = tf.tensor2d([
        [0, 1, 0, 1],
        [1, 0, 0, 0],
      ]);
      const masked = maskLogits(logits, masks);
      expect(Array.from(tf.argMax(masked, 1).dataSync())).to.deep.equal([3, 0]);
      const probs = tf.softmax(masked).arraySync() as number[][];
      expect(probs[0]![0]).to.equal(0);
      expect(probs[1]![2]).to.equal(0);
      expect(probs[1]![0]).to.equal(1);
    });
  });

  it('computes masked cross-entropy over legal actions only, and top-1 hits', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([
        [0, 0, 50],
        [1, 1, 0],
      ]);
      const masks = tf.tensor2d([
        [1, 1, 0],
        [1, 1, 1],
      ]);
      const labels = tf.tensor1d([0, 2], 'int32');
      const { loss, correct } = lossAndCorrect(maskLogits(logits, masks), labels, 3);
      // Row 1: two equally likely legal actions → ln 2. Row 2: softmax over (1, 1, 0).
      const row2 = -Math.log(Math.exp(0) / (2 * Math.exp(1) + Math.exp(0)));
      expect(loss.dataSync()[0]).to.be.closeTo((Math.log(2) + row2) / 2, 1e-5);
      expect(correct.dataSync()[0]).to.equal(1); // row 1 argmax picks index 0 (first of the tie); row 2 picks 0 ≠ 2
    });
  });

  it('predicts only legal actions end to end', () => {
    const model = buildPolicy({ featureSize: 6, actionCount: 5, hiddenSizes: [16], activation: 'relu', dropout: 0, seed: 3 });
    const actions = tf.tidy(() => {
      const x = tf.randomNormal([200, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
      const legal = tf.tensor2d(Array.from({ length: 200 }, (_, i) => [0, 1, 2, 3, 4].map((a) => ((i + a) % 3 === 0 ? 1 : 0))));
      return Array.from(predictActions(model, x, legal).dataSync());
    });
    actions.forEach((a, i) => expect((i + a) % 3, `row ${i}`).to.equal(0));
  });
});
