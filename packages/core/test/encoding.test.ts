import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ArrayDataset, openShardSets, readShardIndex, readShards, writeShards } from '@poke/core';
import type { ShardStream } from '@poke/core';
import { requirePinnedTool } from '../../../test/pinned-tool.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);

/** Features like a battle's: flags, small counts, a fraction; 3 actions, every one legal. */
function battleLike(samples: number): ArrayDataset {
  const F = 4;
  const features = new Float32Array(samples * F);
  for (let i = 0; i < samples; i++) {
    features.set([i % 2, i % 7, (i % 100) / 99, 1000 + (i % 300) / 3], i * F);
  }
  return new ArrayDataset(features, Int32Array.from({ length: samples }, (_, i) => i % 3), new Uint8Array(samples * 3).fill(1), F, 3);
}

async function written(encoding: 'float32' | 'float16' | 'uint8', data = battleLike(200)) {
  const dir = join(await tempDir(`enc-${encoding}`), 'set');
  await writeShards(dir, data, { shardSize: 64, encoding });
  return { dir, data, index: await readShardIndex(dir), read: await readShards(dir) };
}

describe('shard feature encodings', () => {
  it('float16: flags and small integers exact, other values within half precision; half the feature bytes', async () => {
    const { dir, data, index, read } = await written('float16');
    expect(index.version).to.equal(2);
    expect(index.encoding).to.deep.equal({ type: 'float16' });
    for (let i = 0; i < data.features.length; i++) {
      const [want, got] = [data.features[i]!, read.features[i]!];
      if (Number.isInteger(want) && Math.abs(want) <= 2048) expect(got).to.equal(want);
      else expect(Math.abs(got - want)).to.be.at.most(Math.abs(want) * 2 ** -11);
    }
    const plain = await written('float32');
    const size = async (d: string) => (await stat(join(d, 'shard-00000.bin'))).size;
    expect(await size(dir)).to.equal(64 * (4 * 2 + 4 + 3));
    expect(await size(plain.dir)).to.equal(64 * (4 * 4 + 4 + 3));
    expect(Array.from(read.labels)).to.deep.equal(Array.from(data.labels));
  });

  it('float16 rounds to nearest even and keeps the special values', async () => {
    const values = [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65520, 2 ** -24, 2 ** -25, -0, -2.5, Infinity, -Infinity];
    const features = Float32Array.from(values);
    // Non-finite features are refused as samples, so these go through the codec as one shard only.
    const { encodeFeatures, decodeFeaturesInto } = await import('../src/data/encoding.js');
    const decoded = new Float32Array(values.length);
    decodeFeaturesInto(encodeFeatures(features, 1, { type: 'float16' }), decoded, 0, 1, { type: 'float16' });
    expect(Array.from(decoded)).to.deep.equal([1, 1, 1 + 2 ** -9, 65504, Infinity, 2 ** -24, 0, -0, -2.5, Infinity, -Infinity]);
  });

  it('uint8: integer features spanning at most 255 exact, the others within half a step', async () => {
    const { data, index, read } = await written('uint8');
    const encoding = index.encoding as { type: 'uint8'; offset: number[]; scale: number[] };
    expect(encoding.scale.slice(0, 2)).to.deep.equal([1, 1]);
    for (let i = 0; i < data.features.length; i++) {
      const f = i % 4;
      if (f < 2) expect(read.features[i]).to.equal(data.features[i]);
      else expect(Math.abs(read.features[i]! - data.features[i]!)).to.be.at.most(encoding.scale[f]! / 2 + 1e-4);
    }
  });

  it('an encoded set streams the same samples it reads whole', async () => {
    const { dir, read } = await written('uint8', battleLike(600));
    const stream = (await openShardSets(dir, (6 * 64 * (16 + 4 + 3) + 10) / 2 ** 20)) as ShardStream;
    const order = Int32Array.from({ length: 600 }, (_, i) => i);
    await stream.prepare(order, 0, 64);
    expect(Array.from(stream.gather(order.subarray(0, 64)).features)).to.deep.equal(Array.from(read.features.subarray(0, 64 * 4)));
  });

  it('refuses what it could not read back: a float16 value beyond 65504, a shard size that is no count, an index whose encoding does not fit', async () => {
    const dir = await tempDir('encoding-refused');
    const big = battleLike(10);
    big.features[4 * 7 + 3] = 65520;
    const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (err: Error) => err.message);
    expect(await refusal(writeShards(join(dir, 'big'), big, { encoding: 'float16' }))).to.equal('float16 holds values up to 65504; sample 7 has 65520 at feature 3');
    big.features[4 * 7 + 3] = 65504;
    expect((await written('float16', big)).read.features[4 * 7 + 3], 'the largest half is kept').to.equal(65504);
    for (const shardSize of [0, -1, 2.5]) {
      expect(await refusal(writeShards(join(dir, `size${shardSize}`), battleLike(10), { shardSize }))).to.equal(`writeShards: shardSize must be a positive integer, got ${shardSize}`);
    }
    // Indexes a writer other than poke's could make: each is named, not read as garbage.
    const edited = async (edit: (index: Record<string, any>) => void) => {
      const { dir: set } = await written('uint8', battleLike(10));
      const path = join(set, 'index.json');
      const index = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
      edit(index);
      await writeFile(path, JSON.stringify(index));
      return refusal(readShards(set));
    };
    expect(await edited((index) => index.encoding.scale.pop())).to.match(/index\.json: uint8 needs an offset and a scale for each of the 4 features, got 4 offsets and 3 scales$/);
    expect(await edited((index) => (index.version = 1))).to.match(/index\.json: an "encoding" comes with "version": 2 .* got version 1$/);
  });

  it('numpy decodes each encoding as docs/data.md says, to the same float32 values', async function () {
    this.timeout(20 * 60_000);
    const python = join(dirname(await requirePinnedTool(this, { tool: 'tensorboard', label: 'TensorBoard (for its numpy)' })), 'python');
    for (const encoding of ['float32', 'float16', 'uint8'] as const) {
      const { dir, read } = await written(encoding);
      // The decoding docs/data.md gives, written out with numpy.
      const script = `
import json, sys, numpy as np
d = sys.argv[1]
index = json.load(open(d + "/index.json"))
F, A = index["featureSize"], index["actionCount"]
enc = index.get("encoding", {"type": "float32"})
out = []
for s in index["shards"]:
    b = open(d + "/" + s["file"], "rb").read()
    n = s["samples"]
    if enc["type"] == "float32":
        x = np.frombuffer(b, "<f4", n * F)
    elif enc["type"] == "float16":
        x = np.frombuffer(b, "<f2", n * F).astype(np.float32)
    else:
        q = np.frombuffer(b, np.uint8, n * F).reshape(n, F).astype(np.float64)
        x = (np.array(enc["offset"]) + np.array(enc["scale"]) * q).astype(np.float32)
    out.extend(float(v) for v in np.asarray(x, np.float32).ravel())
print(json.dumps(out))
`;
      const { stdout } = await run(python, ['-c', script, dir]);
      expect(JSON.parse(stdout), encoding).to.deep.equal(Array.from(read.features));
    }
  });
});
