import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildPolicy, selectBackend } from '@poke/core';
import type { Activation } from '@poke/core';
import { dropoutMultiplier, FlatAdam, forward, lossAndCorrect, maskLogits, nativeTrainStep } from '@poke/core/internal';
import { makeTrainer, maxDifference, smallConfig, tempDir } from './helpers.js';
import { requireNativeTensorflow } from '../../../test/requirements.js';

const [ROWS, FEATURES, ACTIONS] = [48, 20, 6];

/** A batch with a third of the actions illegal and each label a legal action. */
function batch(seed: number) {
  return tf.tidy(() => {
    const x = tf.randomUniform([ROWS, FEATURES], -1, 1, 'float32', seed) as tf.Tensor2D;
    const legal = (r: number, a: number) => (a + r + seed) % 3 !== 0;
    const m = tf.tensor2d(Float32Array.from({ length: ROWS * ACTIONS }, (_, i) => (legal(Math.floor(i / ACTIONS), i % ACTIONS) ? 1 : 0)), [ROWS, ACTIONS]);
    const y = tf.tensor1d(Int32Array.from({ length: ROWS }, (_, r) => [0, 1, 2].map((k) => (r + k) % ACTIONS).find((a) => legal(r, a))!), 'int32');
    return { x, y, m };
  });
}

type Step = (model: LayersModel, adam: FlatAdam, seed: number) => [number, number];

/** The step as the Trainer takes it without a written-out backward pass: through tfjs's tape. */
const tapedStep: Step = (model, adam, seed) =>
  tf.tidy(() => {
    const { x, y, m } = batch(seed);
    let correct = 0;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = adam.minimize(
      () => {
        const out = lossAndCorrect(maskLogits(forward(model, x, seed * 31), m), y, ACTIONS);
        correct = out.correct.dataSync()[0]!;
        return out.loss;
      },
      true,
      variables,
    )!;
    return [loss.dataSync()[0]!, correct];
  });

const writtenOutStep: Step = (model, adam, seed) =>
  tf.tidy(() => {
    const { x, y, m } = batch(seed);
    const out = nativeTrainStep(model, adam)!(x, y, m, seed * 31);
    return [out.loss.dataSync()[0]!, out.correct.dataSync()[0]!];
  });

/** Weights after `steps` steps of a fresh policy, and each step's loss and correct count. */
function train(step: Step, activation: Activation, dropout: number, steps = 5, hiddenSizes = [32, 24]) {
  const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes, activation, dropout, seed: 3 });
  const adam = new FlatAdam(0.01);
  const metrics = Array.from({ length: steps }, (_, i) => step(model, adam, i + 1));
  const weights = model.getWeights().map((w) => w.dataSync<"float32">().slice());
  model.dispose();
  adam.dispose();
  return { metrics, weights };
}

describe('dropout masks', () => {
  before(() => selectBackend('cpu'));

  it('are a function of the seed: the same seed the same mask, another seed another', () => {
    const mask = (seed: number) => tf.tidy(() => dropoutMultiplier([64, 50], 0.3, seed).dataSync().slice());
    expect(mask(5)).to.deep.equal(mask(5));
    const other = mask(6);
    expect(mask(5).filter((v, i) => v !== other[i]).length).to.be.greaterThan(1000);
  });

  it('drop the rate of units and scale the rest by 1/(1 − rate) in float32', () => {
    for (const rate of [0.1, 0.5]) {
      const values = tf.tidy(() => dropoutMultiplier([512, 512], rate, 42).dataSync().slice());
      const kept = values.filter((v) => v !== 0);
      expect(new Set(kept)).to.deep.equal(new Set([Math.fround(1 / (1 - rate))]));
      // 262,144 units: the kept fraction's standard deviation is under 0.001.
      expect(kept.length / values.length).to.be.closeTo(1 - rate, 0.005);
    }
  });

  it('refuse a rate outside [0, 1)', () => {
    for (const rate of [-0.1, 1, Number.NaN]) expect(() => dropoutMultiplier([2], rate, 1)).to.throw(RangeError, /dropout rate must be in \[0, 1\)/);
  });
});

describe('the written-out training step on tensorflow', () => {
  before(function () {
    requireNativeTensorflow(this);
  });
  beforeEach(() => selectBackend('tensorflow'));
  after(() => selectBackend('cpu'));

  for (const activation of ['relu', 'elu'] as const) {
    it(`is the taped step bit for bit with ${activation}, dropout included: losses, counts and weights`, () => {
      const taped = train(tapedStep, activation, 0.25);
      const before = tf.memory().numTensors;
      const written = train(writtenOutStep, activation, 0.25);
      expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
      expect(written.metrics).to.deep.equal(taped.metrics);
      expect(maxDifference(written.weights, taped.weights)).to.equal(0);
      // The steps did train: the first and last weights differ.
      const start = train(writtenOutStep, activation, 0.25, 0);
      expect(maxDifference(written.weights, start.weights)).to.be.greaterThan(1e-3);
    });
  }

  it('is the taped step bit for bit without dropout and without hidden layers (the logits layer alone)', () => {
    for (const hiddenSizes of [[32, 24], []]) {
      const taped = train(tapedStep, 'relu', 0, 5, hiddenSizes);
      const written = train(writtenOutStep, 'relu', 0, 5, hiddenSizes);
      expect(written.metrics, `hidden ${hiddenSizes}`).to.deep.equal(taped.metrics);
      expect(maxDifference(written.weights, taped.weights), `hidden ${hiddenSizes}`).to.equal(0);
    }
  });

  for (const activation of ['selu', 'tanh'] as const) {
    it(`agrees with the taped step within float rounding with ${activation}: TensorFlow's own gradient op`, () => {
      const taped = train(tapedStep, activation, 0.25);
      const written = train(writtenOutStep, activation, 0.25);
      written.metrics.forEach(([loss, correct], i) => {
        expect(loss).to.be.closeTo(taped.metrics[i]![0], 1e-5);
        expect(correct).to.equal(taped.metrics[i]![1]);
      });
      expect(maxDifference(written.weights, taped.weights)).to.be.lessThan(1e-5);
    });
  }

  it('is not offered for layers it does not write out: a dense layer without bias, dropout with a noise shape', () => {
    const adam = new FlatAdam(0.01);
    const models = [
      tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: 'relu', useBias: false }), tfl.layers.dense({ units: 2 })] }),
      tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }), tfl.layers.dropout({ rate: 0.5, noiseShape: [1, 3] }), tfl.layers.dense({ units: 2 })] }),
    ];
    for (const model of models) expect(nativeTrainStep(model, adam)).to.equal(undefined);
    tf.dispose(models.flatMap((m) => m.getWeights()));
    adam.dispose();
  });

  it('is not offered for gelu, which TensorFlow has no gradient op for, nor on other backends', async () => {
    const policy = (activation: Activation) => buildPolicy({ featureSize: 4, actionCount: 2, hiddenSizes: [3], activation, dropout: 0, seed: 1 });
    const [gelu, relu] = [policy('gelu'), policy('relu')];
    const adam = new FlatAdam(0.01);
    expect(nativeTrainStep(gelu, adam)).to.equal(undefined);
    expect(nativeTrainStep(relu, adam)).to.be.a('function');
    await selectBackend('cpu');
    expect(nativeTrainStep(relu, adam)).to.equal(undefined);
    tf.dispose([gelu, relu].flatMap((m) => m.getWeights()));
    adam.dispose();
  });

  it('is the step a Trainer on tensorflow takes; a gelu policy still trains through the tape', async () => {
    const minimize = FlatAdam.prototype.minimize;
    let taped = 0;
    FlatAdam.prototype.minimize = function (...args) {
      taped++;
      return minimize.apply(this, args);
    };
    try {
      for (const activation of ['relu', 'gelu'] as const) {
        taped = 0;
        const trainer = await makeTrainer(smallConfig({ model: { hiddenSizes: [16], activation }, train: { epochs: 1, backend: 'tensorflow' } }), await tempDir('native-step'));
        const summary = await trainer.run();
        expect(summary.finalMetrics.val_loss, activation).to.be.a('number').and.not.NaN;
        expect(taped, activation).to.equal(activation === 'relu' ? 0 : trainer.state.globalStep);
      }
    } finally {
      FlatAdam.prototype.minimize = minimize;
    }
  });
});
