import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildPolicy, selectBackend } from '@poke/core';
import type { Activation } from '@poke/core';
import { captureOptimizer, dropoutMultiplier, FlatAdam, forward, lossAndCorrect, maskLogits, nativeTrainStep, restoreOptimizer, snapshotOptimizer } from '@poke/core/internal';
import { makeTrainer, maxDifference, smallConfig, tempDir } from './helpers.js';
import { requireNativeTensorflow } from '../../../test/requirements.js';

const [ROWS, FEATURES, ACTIONS] = [48, 20, 6];

/** A batch of `rows` rows with a third of the actions illegal and each label a legal action. */
function batch(seed: number, rows = ROWS) {
  return tf.tidy(() => {
    const x = tf.randomUniform([rows, FEATURES], -1, 1, 'float32', seed) as tf.Tensor2D;
    const legal = (r: number, a: number) => (a + r + seed) % 3 !== 0;
    const m = tf.tensor2d(Float32Array.from({ length: rows * ACTIONS }, (_, i) => (legal(Math.floor(i / ACTIONS), i % ACTIONS) ? 1 : 0)), [rows, ACTIONS]);
    const y = tf.tensor1d(Int32Array.from({ length: rows }, (_, r) => [0, 1, 2].map((k) => (r + k) % ACTIONS).find((a) => legal(r, a))!), 'int32');
    return { x, y, m };
  });
}

/** A training step made for one model and optimizer: a step's loss and correct count, given its seed. */
interface Stepper {
  step(seed: number): [number, number];
  dispose(): void;
}
type MakeStep = (model: LayersModel, adam: FlatAdam) => Stepper;

/** The step as the Trainer takes it without a graph: through tfjs's tape. */
const tapedStep: MakeStep = (model, adam) => ({
  step: (seed) =>
    tf.tidy(() => {
      const { x, y, m } = batch(seed, rowsOf(seed));
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
    }),
  dispose: () => {},
});

const graphStep: MakeStep = (model, adam) => {
  const native = nativeTrainStep(model, adam)!;
  return {
    step: (seed) =>
      tf.tidy(() => {
        const { x, y, m } = batch(seed, rowsOf(seed));
        const out = native.step(x, y, m, seed * 31);
        return [out.loss.dataSync()[0]!, out.correct.dataSync()[0]!];
      }),
    dispose: () => native.dispose(),
  };
};

/** Every third step a short batch, as an epoch's last one can be: one graph serves every batch size. */
const rowsOf = (seed: number) => (seed % 3 === 0 ? 17 : ROWS);

/** The model's weights now, copied out. */
const weightsNow = (model: LayersModel) => model.getWeights().map((w) => w.dataSync<'float32'>().slice());

/** Counts the steps that go through the tape (FlatAdam.minimize) until `restore` is called. */
function countTapedSteps(): { count: () => number; reset: () => void; restore: () => void } {
  const minimize = FlatAdam.prototype.minimize;
  let taped = 0;
  FlatAdam.prototype.minimize = function (...args) {
    taped++;
    return minimize.apply(this, args);
  };
  return { count: () => taped, reset: () => (taped = 0), restore: () => (FlatAdam.prototype.minimize = minimize) };
}

/** Adam's moments, one array per slot. */
const momentsOf = (adam: FlatAdam) => captureOptimizer(adam).slots.map((slot) => Array.from(slot.values));

/**
 * Weights and Adam's moments after `steps` steps of a fresh policy, and each step's loss and
 * correct count. The moments are read twice: while the step still holds them, and after.
 */
function train(make: MakeStep, activation: Activation, dropout: number, steps = 5, hiddenSizes = [32, 24]) {
  const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes, activation, dropout, seed: 3 });
  const adam = new FlatAdam(0.01);
  const stepper = make(model, adam);
  const metrics = Array.from({ length: steps }, (_, i) => stepper.step(i + 1));
  const momentsDuring = momentsOf(adam);
  stepper.dispose();
  const moments = momentsOf(adam);
  const weights = weightsNow(model);
  model.dispose();
  adam.dispose();
  return { metrics, weights, moments, momentsDuring };
}

/** Sessions open in tfjs-node: a graph step's until it is disposed. */
const openSessions = () => (tf.backend() as unknown as { getNumOfSavedModels(): number }).getNumOfSavedModels();

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

describe('the training step as one TensorFlow graph', () => {
  before(function () {
    requireNativeTensorflow(this);
  });
  beforeEach(() => selectBackend('tensorflow'));
  after(() => selectBackend('cpu'));

  for (const activation of ['relu', 'elu'] as const) {
    it(`is the taped step bit for bit with ${activation}, dropout included: losses, counts and weights`, () => {
      const taped = train(tapedStep, activation, 0.25);
      const [tensors, sessions] = [tf.memory().numTensors, openSessions()];
      const graphed = train(graphStep, activation, 0.25);
      expect(tf.memory().numTensors, 'tensors left behind').to.equal(tensors);
      expect(openSessions(), 'sessions left open').to.equal(sessions);
      expect(graphed.metrics).to.deep.equal(taped.metrics);
      expect(maxDifference(graphed.weights, taped.weights)).to.equal(0);
      expect(graphed.momentsDuring, "Adam's moments, read while the graph holds them").to.deep.equal(taped.moments);
      expect(graphed.moments, "Adam's moments, given back").to.deep.equal(taped.moments);
      // The steps did train: the first and last weights differ.
      const start = train(graphStep, activation, 0.25, 0);
      expect(maxDifference(graphed.weights, start.weights)).to.be.greaterThan(1e-3);
    });
  }

  it('is the taped step bit for bit without dropout and without hidden layers (the logits layer alone)', () => {
    for (const hiddenSizes of [[32, 24], []]) {
      const taped = train(tapedStep, 'relu', 0, 5, hiddenSizes);
      const graphed = train(graphStep, 'relu', 0, 5, hiddenSizes);
      expect(graphed.metrics, `hidden ${hiddenSizes}`).to.deep.equal(taped.metrics);
      expect(maxDifference(graphed.weights, taped.weights), `hidden ${hiddenSizes}`).to.equal(0);
    }
  });

  it('continues bit for bit from a capture of its optimizer, restored into a new one mid-run', async () => {
    const straight = train(graphStep, 'relu', 0.25, 6);
    const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes: [32, 24], activation: 'relu', dropout: 0.25, seed: 3 });
    const first = new FlatAdam(0.01);
    const before = graphStep(model, first);
    for (let seed = 1; seed <= 3; seed++) before.step(seed);
    const state = captureOptimizer(first);
    before.dispose();
    first.dispose();
    const resumed = new FlatAdam(0.01);
    await restoreOptimizer(resumed, state);
    const after = graphStep(model, resumed);
    for (let seed = 4; seed <= 6; seed++) after.step(seed);
    expect(momentsOf(resumed)).to.deep.equal(straight.moments);
    after.dispose();
    expect(maxDifference(weightsNow(model), straight.weights)).to.equal(0);
    expect(resumed.iterations).to.equal(6);
    model.dispose();
    resumed.dispose();
  });

  it('takes a restore into its own optimizer mid-run, and continues from the restored state bit for bit', async () => {
    const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes: [32, 24], activation: 'relu', dropout: 0.25, seed: 3 });
    const adam = new FlatAdam(0.01);
    const stepper = graphStep(model, adam);
    for (let seed = 1; seed <= 3; seed++) stepper.step(seed);
    const state = captureOptimizer(adam);
    const weights = model.getWeights().map((w) => w.clone());
    const tail = () => [4, 5].map((seed) => stepper.step(seed));
    const first = { metrics: tail(), moments: momentsOf(adam), weights: weightsNow(model) };
    await restoreOptimizer(adam, state);
    model.setWeights(weights);
    const again = { metrics: tail(), moments: momentsOf(adam), weights: weightsNow(model) };
    expect(again.metrics).to.deep.equal(first.metrics);
    expect(again.moments).to.deep.equal(first.moments);
    expect(maxDifference(again.weights, first.weights)).to.equal(0);
    stepper.dispose();
    tf.dispose(weights);
    model.dispose();
    adam.dispose();
  });

  it('gives the moments back for an update made outside the graph, and takes them again: the same as every step taped', () => {
    const run = (taped: ReadonlySet<number>) => {
      const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes: [32, 24], activation: 'relu', dropout: 0, seed: 3 });
      const adam = new FlatAdam(0.01);
      const steppers = { graph: graphStep(model, adam), tape: tapedStep(model, adam) };
      const metrics = [1, 2, 3, 4].map((seed) => (taped.has(seed) ? steppers.tape : steppers.graph).step(seed));
      const moments = momentsOf(adam);
      steppers.graph.dispose();
      const weights = weightsNow(model);
      model.dispose();
      adam.dispose();
      return { metrics, moments, weights };
    };
    const mixed = run(new Set([2, 3]));
    const taped = run(new Set([1, 2, 3, 4]));
    expect(mixed.metrics).to.deep.equal(taped.metrics);
    expect(mixed.moments).to.deep.equal(taped.moments);
    expect(maxDifference(mixed.weights, taped.weights)).to.equal(0);
  });

  it("keeps a background save's snapshot of the moments it holds: a later step does not reach it", () => {
    const model = buildPolicy({ featureSize: FEATURES, actionCount: ACTIONS, hiddenSizes: [8], activation: 'relu', dropout: 0, seed: 3 });
    const adam = new FlatAdam(0.05);
    const stepper = graphStep(model, adam);
    stepper.step(1);
    const snapshot = snapshotOptimizer(adam);
    const atSnapshot = snapshot.buffers.map((t) => Array.from(t.dataSync()));
    stepper.step(2);
    expect(snapshot.buffers.map((t) => Array.from(t.dataSync())), 'the snapshot after a later step').to.deep.equal(atSnapshot);
    expect(momentsOf(adam), 'the moments moved on').to.not.deep.equal(atSnapshot);
    tf.dispose([...snapshot.buffers]);
    stepper.dispose();
    model.dispose();
    adam.dispose();
  });

  for (const activation of ['selu', 'tanh'] as const) {
    it(`agrees with the taped step within float rounding with ${activation}: TensorFlow's own gradient op`, () => {
      const taped = train(tapedStep, activation, 0.25);
      const graphed = train(graphStep, activation, 0.25);
      graphed.metrics.forEach(([loss, correct], i) => {
        expect(loss).to.be.closeTo(taped.metrics[i]![0], 1e-5);
        expect(correct).to.equal(taped.metrics[i]![1]);
      });
      expect(maxDifference(graphed.weights, taped.weights)).to.be.lessThan(1e-5);
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
    const step = nativeTrainStep(relu, adam);
    expect(step?.step).to.be.a('function');
    step!.dispose();
    await selectBackend('cpu');
    expect(nativeTrainStep(relu, adam)).to.equal(undefined);
    tf.dispose([gelu, relu].flatMap((m) => m.getWeights()));
    adam.dispose();
  });

  for (const [what, method, error] of [
    ['cannot be loaded', 'loadSavedModelMetaGraph', 'no such op: ResourceApplyAdam'],
    // Setting the moments runs; the step's own ops fail, as a kernel missing on a device would.
    ['fails its first step', 'runSavedModel', 'no kernel for BatchMatMulV2 on this device'],
  ] as const) {
    it(`gives way to the tape with a warning when its graph ${what}, and the run still trains`, async () => {
      const backend = tf.backend() as unknown as Record<typeof method, (...args: unknown[]) => unknown>;
      const original = backend[method];
      backend[method] = (...args) => {
        if (method === 'runSavedModel' && !(args[3] as string[]).includes('loss:0')) return original.apply(backend, args);
        throw new Error(error);
      };
      const taped = countTapedSteps();
      const warnings: string[] = [];
      const sessions = openSessions();
      try {
        const logger = { info: () => {}, warn: (message: string) => warnings.push(message) };
        const trainer = await makeTrainer(smallConfig({ model: { hiddenSizes: [16] }, train: { epochs: 1, backend: 'tensorflow' } }), await tempDir('native-step'), { logger });
        const summary = await trainer.run();
        expect(summary.finalMetrics.val_loss).to.be.a('number').and.not.NaN;
        expect(taped.count()).to.equal(trainer.state.globalStep).and.greaterThan(0);
        expect(warnings).to.deep.equal([`the tensorflow training step could not run as one graph (${error}); it runs op by op through tfjs's gradient tape instead`]);
        expect(openSessions(), 'sessions left open').to.equal(sessions);
      } finally {
        Reflect.deleteProperty(backend, method);
        taped.restore();
      }
    });
  }

  it('is the step a Trainer on tensorflow takes; a gelu policy still trains through the tape', async () => {
    const taped = countTapedSteps();
    try {
      for (const activation of ['relu', 'gelu'] as const) {
        taped.reset();
        const sessions = openSessions();
        const trainer = await makeTrainer(smallConfig({ model: { hiddenSizes: [16], activation }, train: { epochs: 1, backend: 'tensorflow' } }), await tempDir('native-step'));
        const summary = await trainer.run();
        expect(summary.finalMetrics.val_loss, activation).to.be.a('number').and.not.NaN;
        expect(taped.count(), activation).to.equal(activation === 'relu' ? 0 : trainer.state.globalStep);
        expect(openSessions(), `${activation}: sessions left open`).to.equal(sessions);
      }
    } finally {
      taped.restore();
    }
  });
});
