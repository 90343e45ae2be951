import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ArrayDataset, readShardSets, writeShards, generateSynthetic } from '@poke/core';
import type { Dataset } from '@poke/core';
import { openStorage, cacheShards } from '@poke/plugin-storage';
import { poke } from '../../cli/test/helpers.js';
import checkpoint from '@poke/plugin-checkpoint';
import { makeTrainer, smallConfig, tempDir, useS3Server, storageConfig, recordingLogger } from './helpers.js';
import { storage } from '@poke/plugin-storage';

describe('data.path: s3://… (shards through the local cache)', function () {
  const { server } = useS3Server();

  /** Two parts of a sharded set written locally, then uploaded under `prefix`; the local folder. */
  async function uploadParts(prefix: string): Promise<string> {
    const dir = await tempDir('shards-src');
    const all = generateSynthetic({ samples: 400, features: 12, actions: 5, legalProbability: 0.7, noise: 0.1 }, 3) as ArrayDataset;
    for (const part of [0, 1]) {
      const indices = Array.from({ length: 200 }, (_, i) => part * 200 + i);
      const b = all.gather(indices);
      await writeShards(join(dir, `part-${part}`), new ArrayDataset(b.features, b.labels, b.masks, 12, 5), { shardSize: 64, meta: { shard: { index: part, count: 2 } } });
    }
    const { bucket } = openStorage(storageConfig(server(), prefix), { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    for (const part of ['part-0', 'part-1']) {
      for (const name of await readdir(join(dir, part))) await bucket.putFile(`${prefix}/${part}/${name}`, join(dir, part, name));
    }
    bucket.client.destroy();
    return dir;
  }

  async function train(baseDir: string, prefix: string) {
    const logger = recordingLogger();
    const user = smallConfig({ runName: 'remote-data', storage: storageConfig(server(), 'runs'), train: { epochs: 1 } });
    const data = { source: 'shards', path: `s3://${server().bucket}/${prefix}` };
    const trainer = await makeTrainer({ ...user, data }, baseDir, { plugins: [checkpoint(), storage({ retrySeconds: 0.2 })], logger, resume: 'auto' });
    await trainer.run();
    return { trainer, lines: logger.lines.join('\n') };
  }

  const same = (a: Dataset & { features?: Float32Array }, b: ArrayDataset) =>
    expect(Buffer.from(a.gather(Array.from({ length: a.size }, (_, i) => i)).features.buffer).equals(Buffer.from(b.features.buffer))).to.equal(true);

  it('poke storage push uploads a shard set that reads back the same through the cache', async () => {
    const dir = await tempDir('push');
    const set = generateSynthetic({ samples: 150, features: 12, actions: 5, legalProbability: 0.7, noise: 0.1 }, 9) as ArrayDataset;
    await writeShards(join(dir, 'set'), set, { shardSize: 64 });
    const url = `s3://${server().bucket}/pushed/set`;
    const result = await poke(['storage', 'push', 'set', url, '--endpoint', server().endpoint, '--force-path-style'], dir, server().env);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include(`pushed 4 file(s) from set to ${url}`);
    const { bucket } = openStorage(storageConfig(server(), 'pushed'), { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    const cached = await cacheShards(bucket, url, join(dir, 'cache'), () => {});
    bucket.client.destroy();
    same(await readShardSets(cached), set);
  });

  it('trains on the objects under the prefix, downloads each once, and refuses one that no longer matches its index', async () => {
    const local = await uploadParts('data/gen');
    const expected = await readShardSets(local);
    const baseDir = await tempDir('shards');
    const first = await train(baseDir, 'data/gen');
    expect(first.trainer.dataset.size).to.equal(400);
    same(first.trainer.dataset, expected);
    expect(first.lines).to.include(`shards: downloading s3://${server().bucket}/data/gen into the cache`);

    const second = await train(baseDir, 'data/gen');
    expect(second.lines, 'a second run reads the cache').to.not.include('downloading');

    // The object changes on the server (new ETag): downloaded again, then checked against index.json.
    const { bucket } = openStorage(storageConfig(server(), 'data'), { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    await bucket.putBytes('data/gen/part-1/shard-00000.bin', Buffer.alloc((await bucket.list('data/gen/part-1/shard-00000.bin'))[0]!.size, 1));
    bucket.client.destroy();
    const err = await train(baseDir, 'data/gen').then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/shard-00000\.bin does not match its sha256 in index\.json/);
  });
});
