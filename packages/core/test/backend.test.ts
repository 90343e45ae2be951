import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { selectBackend, UserError } from '@poke/core';
import { makeTrainer, smallConfig, tempDir } from './helpers.js';

/** CI sets POKE_EXPECT_TENSORFLOW=1 when scripts/build-tfjs-node.sh built the native addon: then it must load. */
const EXPECT_TENSORFLOW = process.env.POKE_EXPECT_TENSORFLOW === '1';
const NATIVE_INSTALLED = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

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

describe('backends', () => {
  it('auto picks native tensorflow when installed, else wasm, and says why', async () => {
    const choice = await selectBackend('auto');
    if (EXPECT_TENSORFLOW || NATIVE_INSTALLED) {
      expect(choice.name).to.equal('tensorflow');
      expect(choice.reason).to.match(/^tensorflow via @tensorflow\/tfjs-node/);
    } else {
      expect(choice.name).to.equal('wasm');
      expect(choice.reason).to.equal('wasm (auto: no native tensorflow package installed)');
    }
  });

  it('an explicit tensorflow backend is used when installed, and is a user error with a hint when not', async () => {
    if (EXPECT_TENSORFLOW || NATIVE_INSTALLED) {
      expect((await selectBackend('tensorflow')).name).to.equal('tensorflow');
      return;
    }
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).message).to.include('@tensorflow/tfjs-node');
    expect((err as UserError).hint).to.include('"wasm"');
  });

  describe('native tensorflow (built by scripts/build-tfjs-node.sh)', () => {
    before(function () {
      if (EXPECT_TENSORFLOW && !NATIVE_INSTALLED) throw new Error('POKE_EXPECT_TENSORFLOW=1 but @tensorflow/tfjs-node is not installed');
      // Without the addon there is nothing to test; CI builds it and sets POKE_EXPECT_TENSORFLOW=1.
      if (!NATIVE_INSTALLED) this.skip();
    });

    it('agrees with cpu on matmul for every transpose combination', async () => {
      await selectBackend('tensorflow');
      await selectBackend('cpu');
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const A = ta ? [19, 37] : [37, 19];
        const B = tb ? [23, 19] : [19, 23];
        const a = random(A[0]! * A[1]!, 3);
        const b = random(B[0]! * B[1]!, 5);
        const native = matmulOn('tensorflow', a, A, b, B, ta, tb);
        const cpu = matmulOn('cpu', a, A, b, B, ta, tb);
        expect(native.shape).to.deep.equal(cpu.shape);
        // oneDNN sums in another order: agreement to float32 rounding of 19-term dot products.
        const maxDiff = Math.max(...cpu.values.map((v, i) => Math.abs(v - native.values[i]!)));
        expect(maxDiff).to.be.lessThan(1e-5);
      }
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
    const shapes: Array<[string, number[], number[]]> = [
      ['2-d', [37, 19], [19, 23]],
      ['batched 3-d', [3, 17, 11], [3, 11, 13]],
      ['broadcast batch', [1, 9, 7], [4, 7, 5]],
    ];
    for (const [label, aShape, bShape] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`${label}, transposeA=${ta}, transposeB=${tb}`, () => {
            const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
            const A = swap(aShape, ta);
            const B = swap(bShape, tb);
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
