import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@poke/core';
import { wasmHeapView } from '@poke/core/internal';

const bytesOf = (t: tf.Tensor) => {
  const values = t.dataSync() as Float32Array;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
};

// A checkpoint on wasm is written from these views: they must show the tensor's bytes
// even after the heap grows, which replaces the heap's buffer and empties older views.
describe('wasmHeapView', () => {
  afterEach(() => selectBackend('cpu'));

  it('shows a wasm tensor’s bytes from the heap as it is at each call, also after the heap grows', async () => {
    await selectBackend('wasm');
    const held: tf.Tensor[] = [];
    const t = tf.range(0, 1000, 1, 'float32');
    try {
      const bytes = wasmHeapView(t)!;
      expect(bytes.byteLength).to.equal(4000);
      const { view } = bytes;
      const before = view(0, 4000);
      expect(Buffer.from(before).equals(bytesOf(t))).to.equal(true);
      expect(Buffer.from(view(400, 8)).equals(bytesOf(t).subarray(400, 408)), 'a stretch from an offset').to.equal(true);
      const heap = before.buffer;
      while (before.byteLength > 0 && held.length < 32) held.push(tf.zeros([8 * 1024 * 1024]));
      expect(before.byteLength, 'the view taken before the heap grew is emptied').to.equal(0);
      expect(view(0, 4000).buffer).to.not.equal(heap);
      expect(Buffer.from(view(0, 4000)).equals(bytesOf(t)), 'a view taken after the growth').to.equal(true);
      expect(() => view(3998, 4)).to.throw(RangeError, 'outside the tensor');
    } finally {
      tf.dispose(held);
      t.dispose();
    }
  });

  it('refuses a disposed tensor, and offers no view of a tensor another backend holds', async () => {
    await selectBackend('wasm');
    const t = tf.ones([4]);
    const { view } = wasmHeapView(t)!;
    t.dispose();
    expect(() => view(0, 4)).to.throw('disposed');
    await selectBackend('cpu');
    const onCpu = tf.ones([4]);
    expect(wasmHeapView(onCpu)).to.equal(undefined);
    onCpu.dispose();
  });
});
