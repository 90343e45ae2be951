import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, UserError } from '@poke/core';

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
  it('auto picks wasm when no native tensorflow package is installed, and says why', async () => {
    const choice = await selectBackend('auto');
    expect(choice.name).to.be.oneOf(['tensorflow', 'wasm']);
    if (choice.name === 'wasm') expect(choice.reason).to.include('no native tensorflow package installed');
  });

  it('an explicit tensorflow backend that is not installed is a user error with a hint', async function () {
    const choice = await selectBackend('auto');
    if (choice.name === 'tensorflow') this.skip(); // the native package is installed here: nothing to refuse
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).message).to.include('@tensorflow/tfjs-node');
    expect((err as UserError).hint).to.include('"wasm"');
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
