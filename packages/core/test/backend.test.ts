import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, UserError } from '@poke/core';
import { lossAndCorrect, maskLogits } from '@poke/core/internal';
import { makeTrainer, smallConfig, tempDir } from './helpers.js';
import { requireNativeTensorflow, NATIVE_TENSORFLOW_INSTALLED } from '../../../test/requirements.js';

/** CI sets POKE_EXPECT_TENSORFLOW=1 when `npm ci` built the native addon: then it must load. */
const EXPECT_TENSORFLOW = process.env.POKE_EXPECT_TENSORFLOW === '1';

function matmulOn(backend: string, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean) {
  return tf.tidy(() => {
    const prev = tf.getBackend();
    tf.setBackend(backend);
    const out = tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb);
    const result = { values: out.dataSync().slice(), shape: out.shape };
    tf.setBackend(prev);
    return result;
  });
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

/** Operand shapes before transposition: 2-d, batched, and a batch of 1 broadcast against 4. */
const SHAPES: Array<[string, number[], number[]]> = [
  ['2-d', [37, 19], [19, 23]],
  ['batched 3-d', [3, 17, 11], [3, 11, 13]],
  ['broadcast batch', [1, 9, 7], [4, 7, 5]],
];

/** The shape to create so that transposing its last two axes gives `shape`. */
function swapLast(shape: number[], transposed: boolean): number[] {
  return transposed ? [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!] : shape;
}

describe('backends', () => {
  it('auto picks native tensorflow when installed, else wasm, and says why', async () => {
    const choice = await selectBackend('auto');
    if (EXPECT_TENSORFLOW || NATIVE_TENSORFLOW_INSTALLED) {
      expect(choice.name).to.equal('tensorflow');
      expect(choice.reason).to.match(/^tensorflow via @tensorflow\/tfjs-node/);
    } else {
      expect(choice.name).to.equal('wasm');
      expect(choice.reason).to.equal('wasm (auto: no native tensorflow package installed)');
    }
  });

  it('an explicit tensorflow backend is used when installed, and is a user error with a hint when not', async () => {
    if (EXPECT_TENSORFLOW || NATIVE_TENSORFLOW_INSTALLED) {
      expect((await selectBackend('tensorflow')).name).to.equal('tensorflow');
      return;
    }
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).message).to.include('@tensorflow/tfjs-node');
    expect((err as UserError).hint).to.include('"wasm"');
  });

  describe('native tensorflow', () => {
    before(function () {
      if (EXPECT_TENSORFLOW && !NATIVE_TENSORFLOW_INSTALLED) throw new Error('POKE_EXPECT_TENSORFLOW=1 but @tensorflow/tfjs-node is not installed');
      // Without the addon there is nothing to test: a listed skip, a failure under POKE_REQUIRE_ALL=1.
      requireNativeTensorflow(this);
    });

    it('agrees with cpu on matmul for every transpose combination, 2-d, batched and broadcast', async () => {
      // Loads the addon; a broken build fails here with selectBackend's message.
      await selectBackend('tensorflow');
      await selectBackend('cpu');
      for (const [label, aShape, bShape] of SHAPES) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const A = swapLast(aShape, ta);
          const B = swapLast(bShape, tb);
          const a = random(A.reduce((x, y) => x * y), 3);
          const b = random(B.reduce((x, y) => x * y), 5);
          const before = tf.memory().numTensors;
          const native = matmulOn('tensorflow', a, A, b, B, ta, tb);
          const cpu = matmulOn('cpu', a, A, b, B, ta, tb);
          expect(tf.memory().numTensors).to.equal(before);
          expect(native.shape, label).to.deep.equal(cpu.shape);
          // Entries are dot products of k ≤ 19 terms in [-1, 1], |entry| ≲ 3. Summed in another order
          // (oneDNN blocking, FMA), float32 rounding differs by ~√k·2⁻²⁴·|entry| ≈ 1e-6 (the strict
          // bound k·2⁻²⁴·Σ|aᵢbᵢ| is rarely approached). 1e-5 leaves room for that, while a wrong
          // index, transpose or broadcast gives differences of order 0.1 and fails.
          let maxDiff = 0;
          for (let i = 0; i < cpu.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.values[i]! - native.values[i]!));
          expect(maxDiff, `${label}, transposeA=${ta}, transposeB=${tb}`).to.be.lessThan(1e-5);
        }
      }
    });

    it("differentiates ReLU with TensorFlow's ReluGrad: tfjs's values, in one kernel", async () => {
      await selectBackend('tensorflow');
      const x = random(4096, 11).map((v, i) => (i % 97 === 0 ? 0 : v));
      const dy = random(4096, 13);
      const gradient = () =>
        tf.tidy(() => {
          const input = tf.tensor1d(x);
          const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor1d(dy))))(input);
          return g.dataSync().slice();
        });
      const profile = await tf.profile(() => void gradient());
      // tfjs's own gradient, dy · step(x), computed directly.
      const expected = tf.tidy(() => tf.mul(tf.tensor1d(dy), tf.cast(tf.step(tf.tensor1d(x)), 'float32')).dataSync().slice());
      const actual = gradient();
      // Equal as numbers: only the sign of a zero may differ (dy · 0 is −0 where dy < 0).
      expect(Array.from(actual).every((v, i) => v === expected[i])).to.equal(true);
      expect(actual.filter((v) => v !== 0).length).to.be.greaterThan(1000);
      expect(profile.kernelNames).to.include('PokeNativeReluGrad');
      expect(profile.kernelNames).not.to.include('Step');
      await selectBackend('cpu');
    });

    it("computes the loss as TensorFlow's fused cross-entropy: tfjs's loss and gradient, masked actions included", async () => {
      await selectBackend('tensorflow');
      const [B, A] = [64, 7];
      const logits = random(B * A, 17).map((v) => v * 4);
      // A third of the actions illegal; each row's label its first legal action from r mod A on.
      const isLegal = (r: number, a: number) => (a + r) % 3 !== 0;
      const masks = Float32Array.from({ length: B * A }, (_, i) => (isLegal(Math.floor(i / A), i % A) ? 1 : 0));
      const legal = Int32Array.from({ length: B }, (_, r) => [0, 1, 2].map((k) => (r + k) % A).find((a) => isLegal(r, a))!);
      const lossAndGradient = (loss: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar) =>
        tf.tidy(() => {
          const y = tf.tensor1d(legal, 'int32');
          const m = tf.tensor2d(masks, [B, A]);
          const f = (z: tf.Tensor) => loss(maskLogits(z as tf.Tensor2D, m), y);
          const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(logits, [B, A]));
          return { value: value.dataSync()[0]!, grad: Float32Array.from(grad.dataSync()) };
        });
      const before = tf.memory().numTensors;
      const fused = lossAndGradient((z, y) => lossAndCorrect(z, y, A).loss);
      expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
      // tfjs's own formula, on the same backend.
      const tfjs = lossAndGradient((z, y) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(y, A)), 1))) as tf.Scalar);
      expect(fused.value).to.be.closeTo(tfjs.value, 1e-6 * tfjs.value);
      expect(tfjs.value).to.be.greaterThan(0.1);
      const maxDiff = fused.grad.reduce((m, v, i) => Math.max(m, Math.abs(v - tfjs.grad[i]!)), 0);
      // Gradient entries are (softmax − one-hot) / 64, at most 1/64 in size; masked ones are exactly 0 in both.
      expect(maxDiff).to.be.lessThan(1e-7);
      expect(fused.grad.filter((v, i) => masks[i] === 0 && v !== 0)).to.have.length(0);
      await selectBackend('cpu');
    });

    it('trains the policy: a Trainer run on backend tensorflow learns', async () => {
      const dir = await tempDir('native');
      const trainer = await makeTrainer(
        smallConfig({ data: { samples: 3000, features: 16, actions: 6, noise: 0 }, model: { hiddenSizes: [64], dropout: 0 }, train: { epochs: 6, batchSize: 64, backend: 'tensorflow' } }),
        dir,
      );
      const summary = await trainer.run();
      expect(trainer.context!.backend).to.equal('tensorflow');
      expect(summary.finalMetrics.val_accuracy).to.be.greaterThan(0.75);
      await selectBackend('cpu');
    });
  });

  describe('wasm matmul with transposed operands agrees with cpu', () => {
    before(async () => {
      await selectBackend('wasm');
      await selectBackend('cpu');
    });
    for (const [label, aShape, bShape] of SHAPES) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`${label}, transposeA=${ta}, transposeB=${tb}`, () => {
            const A = swapLast(aShape, ta);
            const B = swapLast(bShape, tb);
            const a = random(A.reduce((x, y) => x * y), 7);
            const b = random(B.reduce((x, y) => x * y), 11);
            const before = tf.memory().numTensors;
            const wasm = matmulOn('wasm', a, A, b, B, ta, tb);
            const cpu = matmulOn('cpu', a, A, b, B, ta, tb);
            expect(tf.memory().numTensors).to.equal(before);
            expect(wasm.shape).to.deep.equal(cpu.shape);
            let maxDiff = 0;
            for (let i = 0; i < cpu.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.values[i]! - wasm.values[i]!));
            expect(maxDiff).to.be.lessThan(1e-5);
          });
        }
      }
    }
  });
});
