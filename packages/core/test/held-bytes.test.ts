import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@poke/core';
import { heldBytes } from '@poke/core/internal';
import type { HeldBytes } from '@poke/core/internal';
import { requireNativeTensorflow, requireTensorDataInto } from '../../../test/requirements.js';

const bytesOf = (t: tf.Tensor) => {
  const values = t.dataSync() as Float32Array;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
};

/** tfjs-node's backend as these tests reach into it: the binding, and TensorFlow's id for a tensor. */
const native = () => tf.backend() as unknown as {
  binding: { tensorDataInto(id: number, offset: number, target: unknown): void };
  tensorMap: { get(dataId: object): { id: number } };
};
const idOf = (t: tf.Tensor) => native().tensorMap.get(t.dataId).id;

const copied = (bytes: HeldBytes, offset: number, length: number) => {
  const out = Buffer.alloc(length);
  bytes.copyTo(out, offset);
  return out;
};

// A checkpoint on wasm and tensorflow is written from these copies, a chunk at a time into
// the writer's buffers: they must give the tensor's bytes at any offset, and refuse a
// stretch outside it or a tensor disposed, rather than write whatever memory is there.
describe('heldBytes', () => {
  afterEach(() => selectBackend('cpu'));

  it('on wasm: copies a tensor’s bytes from the heap as it is at each call, also after the heap grows', async () => {
    await selectBackend('wasm');
    const held: tf.Tensor[] = [];
    const t = tf.range(0, 1000, 1, 'float32');
    try {
      const bytes = heldBytes(t)!;
      expect(bytes.byteLength).to.equal(4000);
      expect(copied(bytes, 0, 4000).equals(bytesOf(t))).to.equal(true);
      expect(copied(bytes, 400, 8).equals(bytesOf(t).subarray(400, 408)), 'a stretch from an offset').to.equal(true);
      const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
      while (heap.byteLength > 0 && held.length < 32) held.push(tf.zeros([8 * 1024 * 1024]));
      expect(heap.byteLength, 'the heap grew, emptying its old buffer').to.equal(0);
      expect(copied(bytes, 0, 4000).equals(bytesOf(t)), 'a copy after the growth').to.equal(true);
      expect(() => copied(bytes, 3998, 4)).to.throw(RangeError, 'outside the tensor');
    } finally {
      tf.dispose(held);
      t.dispose();
    }
  });

  it('on wasm: refuses a disposed tensor; offers nothing for a tensor cpu holds', async () => {
    await selectBackend('wasm');
    const t = tf.ones([4]);
    const bytes = heldBytes(t)!;
    t.dispose();
    expect(() => copied(bytes, 0, 4)).to.throw('disposed');
    await selectBackend('cpu');
    const onCpu = tf.ones([4]);
    expect(heldBytes(onCpu)).to.equal(undefined);
    onCpu.dispose();
  });

  describe('on tensorflow', () => {
    before(async function () {
      requireNativeTensorflow(this);
      await selectBackend('tensorflow');
      requireTensorDataInto(this, native().binding);
    });
    beforeEach(() => selectBackend('tensorflow'));

    it('copies a tensor’s bytes out of TensorFlow at any offset, float32 and int32, and refuses a stretch outside it', () => {
      // Outputs of ops: their values live in TensorFlow, not in JS.
      const floats = tf.tidy(() => tf.mul(tf.range(0, 300_000, 1, 'float32'), 0.5));
      const ints = tf.tidy(() => tf.add(tf.range(0, 1000, 1, 'int32'), 7));
      try {
        const bytes = heldBytes(floats)!;
        expect(bytes.byteLength).to.equal(1_200_000);
        const whole = bytesOf(floats);
        expect(copied(bytes, 0, 1_200_000).equals(whole)).to.equal(true);
        expect(copied(bytes, 1_048_576, 151_424).equals(whole.subarray(1_048_576)), 'the last stretch').to.equal(true);
        expect(copied(bytes, 3, 5).equals(whole.subarray(3, 8)), 'an unaligned stretch').to.equal(true);
        expect(copied(heldBytes(ints)!, 4, 8).equals(bytesOf(ints).subarray(4, 12)), 'int32').to.equal(true);
        const into = new Uint8Array(new ArrayBuffer(16), 5, 8);
        bytes.copyTo(into, 100);
        expect(Buffer.from(into).equals(whole.subarray(100, 108)), 'into a target that starts inside its buffer').to.equal(true);
        expect(new Uint8Array(into.buffer, 0, 5).every((b) => b === 0), 'nothing written before the target').to.equal(true);
        for (const offset of [1_199_998, -1, Number.NaN, 0.5, 2 ** 53]) expect(() => copied(bytes, offset, 4), `offset ${offset}`).to.throw(RangeError, 'outside the tensor');
      } finally {
        tf.dispose([floats, ints]);
      }
    });

    it('the binding itself refuses a stretch outside the tensor, a tensor it does not hold and a target that is not a Uint8Array', () => {
      const t = tf.tidy(() => tf.mul(tf.ones([4]), 2));
      const { binding } = native();
      const id = idOf(t);
      try {
        expect(() => binding.tensorDataInto(id, 12, new Uint8Array(8))).to.throw('outside the tensor');
        expect(() => binding.tensorDataInto(id, 17, new Uint8Array(0))).to.throw('outside the tensor');
        expect(() => binding.tensorDataInto(id, -4, new Uint8Array(4))).to.throw('outside the tensor');
        expect(() => binding.tensorDataInto(id, 0, new Float32Array(2))).to.throw('Uint8Array');
        expect(() => binding.tensorDataInto(id, 0, [0, 0])).to.throw();
        expect(() => binding.tensorDataInto(2 ** 30, 0, new Uint8Array(4))).to.throw('not referenced');
        binding.tensorDataInto(id, 16, new Uint8Array(0));
        const out = new Float32Array(4);
        binding.tensorDataInto(id, 0, new Uint8Array(out.buffer));
        expect(Array.from(out)).to.deep.equal([2, 2, 2, 2]);
      } finally {
        t.dispose();
      }
      expect(() => binding.tensorDataInto(id, 0, new Uint8Array(4)), 'a disposed tensor').to.throw('not referenced');
    });

    it('refuses a disposed tensor; offers nothing for a tensor whose values are still in JS, or for a bool tensor', () => {
      const t = tf.tidy(() => tf.mul(tf.ones([4]), 2));
      const bytes = heldBytes(t)!;
      t.dispose();
      expect(() => copied(bytes, 0, 4)).to.throw('disposed');
      // tfjs-node keeps a tensor made from values in JS until an op takes it: reading it copies nothing.
      const fromJs = tf.tensor1d([1, 2, 3]);
      const bools = tf.tidy(() => tf.greater(tf.range(0, 4), 1));
      try {
        expect(heldBytes(fromJs)).to.equal(undefined);
        expect(heldBytes(bools)).to.equal(undefined);
      } finally {
        tf.dispose([fromJs, bools]);
      }
    });
  });
});
