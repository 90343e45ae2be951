import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@poke/core';

/** `op` run on `backend`, its outputs' values and shapes; every tensor it made disposed. */
async function on(backend: 'wasm' | 'cpu', op: () => tf.Tensor[]): Promise<Array<{ shape: number[]; values: number[] }>> {
  await selectBackend(backend);
  const outs = op();
  const read = outs.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(outs);
  return read;
}

const counting = (n: number, dtype: 'float32' | 'int32') => tf.tensor1d(Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i * 3 - 7 : i * 0.37 - 5)), dtype);

// FlatAdam splits its flat update into one piece per variable on every step. wasm's own Slice
// read the whole input back for each piece; poke moves a contiguous piece within the heap.
describe('wasm slice and split', () => {
  after(() => selectBackend('cpu'));

  const cases: Array<[string, () => tf.Tensor[]]> = [
    ['split of a flat float32 tensor, a -1 size and an empty piece', () => tf.split(counting(1000, 'float32'), [400, 0, -1, 1])],
    ['split of a flat int32 tensor', () => tf.split(counting(90, 'int32'), [30, 60])],
    ['split of a matrix by rows (contiguous) and by columns (not)', () => [...tf.split(tf.reshape(counting(60, 'float32'), [6, 10]), 3, 0), ...tf.split(tf.reshape(counting(60, 'float32'), [6, 10]), [4, 6], 1)]],
    ['slice of rows, of a row\'s middle, and of a column block', () => {
      const m = tf.reshape(counting(60, 'float32'), [6, 10]);
      return [tf.slice(m, [2, 0], [3, 10]), tf.slice(m, [4, 3], [1, 5]), tf.slice(m, [1, 2], [4, 3])];
    }],
  ];
  for (const [label, op] of cases) {
    it(`${label}: the same values and shapes as cpu`, async () => {
      const cpu = await on('cpu', op);
      const wasm = await on('wasm', op);
      expect(wasm).to.deep.equal(cpu);
    });
  }

  it('cuts a contiguous piece without reading the input back', async () => {
    await selectBackend('wasm');
    const backend = tf.backend();
    const flat = counting(1 << 20, 'float32');
    const readSync = backend.readSync;
    let reads = 0;
    backend.readSync = function (this: typeof backend, ...args: Parameters<typeof readSync>) {
      reads++;
      return readSync.apply(this, args);
    };
    try {
      const pieces = [...tf.split(flat, [1 << 19, 1 << 19]), tf.slice(flat, [12345], [100])];
      expect(reads, 'reads of tensor data by the split and the slice').to.equal(0);
      expect(Array.from(pieces[2]!.dataSync().subarray(0, 2))).to.deep.equal([12345 * 0.37 - 5, 12346 * 0.37 - 5].map(Math.fround));
      tf.dispose(pieces);
    } finally {
      delete (backend as { readSync?: unknown }).readSync;
      flat.dispose();
    }
  });
});
