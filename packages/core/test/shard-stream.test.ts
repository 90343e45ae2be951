import { expect } from 'chai';
import { join } from 'node:path';
import { writeFile, readFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { ArrayDataset, ShardStream, generateSynthetic, openShardSets, readShardSets, readShardIndex, writeShards } from '@poke/core';
import type { Trainer } from '@poke/core';
import { makeTrainer, smallConfig, tempDir } from './helpers.js';
import { poke } from '../../cli/test/helpers.js';
import { readShardFile, readSpan, shardDecodedBytes } from '../src/data/shard-file.js';
import { decodeFeaturesInto, featureBytes } from '../src/data/encoding.js';
import type { CompactEncoding, EncodingName } from '../src/data/encoding.js';

const SAMPLES = 600;
/** 12 features, 5 actions: 57 bytes a sample; shards of 60 samples are 3,420 bytes. */
const SHARD_BYTES = 60 * 57;
/** Room for 3 shards training and 3 read ahead. */
const BUDGET_MB = (6 * SHARD_BYTES + 100) / 2 ** 20;

async function shardFolder(encoding?: EncodingName): Promise<{ dir: string; whole: ArrayDataset }> {
  const dir = await tempDir('stream');
  const whole = generateSynthetic({ samples: SAMPLES, features: 12, actions: 5, legalProbability: 0.7, noise: 0.1 }, 4) as ArrayDataset;
  await writeShards(join(dir, 'data'), whole, { shardSize: 60, encoding });
  return { dir, whole };
}

async function stream(dir: string): Promise<ShardStream> {
  const opened = await openShardSets(join(dir, 'data'), BUDGET_MB);
  expect(opened).to.be.instanceOf(ShardStream);
  return opened as ShardStream;
}

describe('shards larger than data.memoryBudgetMB are streamed', () => {
  it('loads a set that fits in the budget whole, as before', async () => {
    const { dir } = await shardFolder();
    expect(await openShardSets(join(dir, 'data'), 1)).to.be.instanceOf(ArrayDataset);
  });

  it('splits by whole shards, and orders an epoch as a function of (seed, epoch) that visits every training sample once', async () => {
    const { dir } = await shardFolder();
    const data = await stream(dir);
    expect(data.window).to.equal(3);
    const { train, val } = data.split(0.1, 7);
    expect(val.length).to.equal(60);
    expect(Math.floor(val[0]! / 60), 'one whole shard').to.equal(Math.floor(val.at(-1)! / 60));
    expect([...train, ...val].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: SAMPLES }, (_, i) => i));
    const order = data.epochOrder(train, 7, 0);
    expect([...order].sort((a, b) => a - b)).to.deep.equal([...train]);
    expect([...data.epochOrder(train, 7, 0)]).to.deep.equal([...order]);
    expect([...data.epochOrder(train, 7, 1)]).to.not.deep.equal([...order]);
    // A window at a time: the first 3 shards' training samples come before any other.
    const firstWindow = new Set([...order.subarray(0, 180)].map((j) => Math.floor(j / 60)));
    expect(firstWindow.size).to.equal(3);
  });

  it('gathers the same samples as the set loaded whole, holding at most the budget', async () => {
    const { dir, whole } = await shardFolder();
    const data = await stream(dir);
    const inMemory = await readShardSets(join(dir, 'data'));
    const { train } = data.split(0.1, 7);
    const order = data.epochOrder(train, 7, 2);
    let most = 0;
    for (let from = 0; from < order.length; from += 64) {
      const to = Math.min(from + 64, order.length);
      await data.prepare(order, from, to);
      most = Math.max(most, data.heldBytes);
      const got = data.gather(order.subarray(from, to));
      const want = inMemory.gather(order.subarray(from, to));
      expect(Buffer.from(got.features.buffer).equals(Buffer.from(want.features.buffer))).to.equal(true);
      expect([...got.labels]).to.deep.equal([...want.labels]);
      expect([...got.masks]).to.deep.equal([...want.masks]);
    }
    expect(most).to.be.at.most(BUDGET_MB * 2 ** 20);
    expect(most, 'the read-ahead window was held too').to.be.greaterThan(3 * SHARD_BYTES);
    expect(inMemory.size).to.equal(whole.size);
  });

  it('holds at most the budget from one epoch to the next, with no validation pass between them', async () => {
    const { dir } = await shardFolder();
    const data = await stream(dir);
    const { train, val } = data.split(0, 7);
    expect(val.length).to.equal(0);
    let most = 0;
    for (let epoch = 0; epoch < 4; epoch++) {
      const order = data.epochOrder(train, 7, epoch);
      for (let from = 0; from < order.length; from += 100) {
        const to = Math.min(from + 100, order.length);
        await data.prepare(order, from, to);
        most = Math.max(most, data.heldBytes);
        expect(data.gather(order.subarray(from, to)).labels.length).to.equal(to - from);
      }
    }
    data.close();
    expect(most).to.be.at.most(BUDGET_MB * 2 ** 20);
  });

  it('warns once when a batch needs more shards than the budget holds, and reads them all the same; not for batches of a window', async () => {
    const { dir } = await shardFolder();
    const warnings: string[] = [];
    const data = (await openShardSets(join(dir, 'data'), BUDGET_MB, { warn: (message) => warnings.push(message) })) as ShardStream;
    const order = data.epochOrder(data.split(0, 7).train, 7, 0);
    let most = 0;
    const epoch = async (size: number) => {
      for (let from = 0; from < order.length; from += size) {
        const to = Math.min(from + size, order.length);
        await data.prepare(order, from, to);
        most = Math.max(most, data.heldBytes);
        expect(data.gather(order.subarray(from, to)).labels.length).to.equal(to - from);
      }
    };
    // Windows of 3 shards of 60: batches of 180 are one window each.
    await epoch(180);
    expect(warnings).to.deep.equal([]);
    expect(most).to.be.at.most(BUDGET_MB * 2 ** 20);
    // Samples 300..599 need the end of window 1, window 2 and window 3 (one shard): 7 shards.
    await epoch(300);
    await epoch(300);
    data.close();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain('shards: a batch of 300 samples needs 7 shards (0.0228 MB), more than data.memoryBudgetMB (0.0197 MB)');
    expect(warnings[0]).to.contain("one window's samples (3 shards, about 180 samples)");
    expect(most).to.equal(7 * SHARD_BYTES);
  });

  it('says through the trainer\'s warnings when a batch passes the budget', async () => {
    const { dir } = await shardFolder();
    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (message: string) => void warnings.push(message) };
    const user = smallConfig({ runName: 'wide', train: { epochs: 1, batchSize: 300 } });
    const trainer = await makeTrainer({ ...user, data: { source: 'shards', path: 'data', memoryBudgetMB: BUDGET_MB, valFraction: 0 } }, dir, { logger });
    expect((await trainer.run()).status).to.equal('completed');
    expect(warnings.filter((w) => w.startsWith('shards: a batch of 300 samples needs'))).to.have.length(1);
  });

  it('trains through the Trainer within the budget, the same on every run', async () => {
    const { dir } = await shardFolder();
    const run = async (name: string) => {
      const trainer: Trainer = await makeTrainer({ ...smallConfig({ runName: name }), data: { source: 'shards', path: 'data', memoryBudgetMB: BUDGET_MB } }, dir);
      let most = 0;
      trainer.hooks.afterStep.tap('test', () => void (most = Math.max(most, (trainer.dataset as ShardStream).heldBytes)));
      const summary = await trainer.run();
      expect(most).to.be.at.most(BUDGET_MB * 2 ** 20);
      return summary;
    };
    const a = await run('a');
    const b = await run('b');
    expect(a.status).to.equal('completed');
    // Timing is the only thing allowed to differ between the two runs.
    const untimed = (m: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(m).filter(([k]) => !/per_sec|seconds/.test(k)));
    expect(untimed(a.finalMetrics)).to.have.property('val_loss');
    expect(untimed(a.finalMetrics)).to.deep.equal(untimed(b.finalMetrics));
  });

  it('stops with the shard named when one does not match its sha256, read mid-epoch', async () => {
    const { dir } = await shardFolder();
    const index = await readShardIndex(join(dir, 'data'));
    const last = join(dir, 'data', index.shards.at(-1)!.file);
    const bytes = await readFile(last);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(last, bytes);
    const trainer = await makeTrainer({ ...smallConfig({ runName: 'bad' }), data: { source: 'shards', path: 'data', memoryBudgetMB: BUDGET_MB } }, dir);
    const err = await trainer.run().then(() => undefined, (e: unknown) => e);
    expect(String((err as Error)?.message)).to.include(`${index.shards.at(-1)!.file} does not match its sha256 in index.json`);
  });

  it('poke train on a streamed set ends and exits by itself (the reader thread holds the process only while it reads)', async function () {
    this.timeout(5 * 60_000);
    const { dir } = await shardFolder();
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ ...smallConfig({}), data: { source: 'shards', path: 'data', memoryBudgetMB: BUDGET_MB } }));
    const result = await poke(['train', '--no-progress', '--run-name', 'cli'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/streaming 10 shards, 3 at a time/);
  });

  it('close() lets go of every shard held, and the stream reads again afterwards', async () => {
    const { dir } = await shardFolder();
    const data = await stream(dir);
    const inMemory = await readShardSets(join(dir, 'data'));
    const order = data.epochOrder(data.split(0.1, 7).train, 7, 0);
    await data.prepare(order, 0, 64);
    expect(data.residentBytes).to.be.greaterThan(0);
    data.close();
    expect(data.residentBytes).to.equal(0);
    await data.prepare(order, 0, 64);
    expect([...data.gather(order.subarray(0, 64)).labels]).to.deep.equal([...inMemory.gather(order.subarray(0, 64)).labels]);
    data.close();
  });

  it('reads a shard into a buffer handed back, the same samples as into new memory; a file of another size still fails its size check', async () => {
    const { dir } = await shardFolder();
    const data = join(dir, 'data');
    const index = await readShardIndex(data);
    const [first, second] = index.shards;
    const fresh = await readShardFile(data, second!, index);
    // The buffer still holds the first shard: every byte must be the second's after the read.
    const reused = new ArrayBuffer(shardDecodedBytes(second!, index));
    new Uint8Array(reused).set(await readFile(join(data, first!.file)));
    const into = await readShardFile(data, second!, index, { into: reused });
    expect(into.masks.buffer, 'read into the buffer given').to.equal(reused);
    expect(Buffer.from(into.features.buffer, into.features.byteOffset, into.features.byteLength).equals(Buffer.from(fresh.features.buffer, fresh.features.byteOffset, fresh.features.byteLength))).to.equal(true);
    expect([...into.labels]).to.deep.equal([...fresh.labels]);
    expect([...into.masks]).to.deep.equal([...fresh.masks]);
    const path = join(data, second!.file);
    await writeFile(path, (await readFile(path)).subarray(0, 100));
    const err = await readShardFile(data, second!, index, { into: new ArrayBuffer(shardDecodedBytes(second!, index)) }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.include(`has 100 bytes, expected ${SHARD_BYTES}`);
  });

  for (const encoding of ['float16', 'uint8'] as const) {
    it(`reads a ${encoding} shard into one buffer of its decoded size, decoding a piece at a time, and streams it as loaded whole`, async () => {
      const { dir } = await shardFolder(encoding);
      const data = join(dir, 'data');
      const index = await readShardIndex(data);
      for (const entry of index.shards) {
        const file = await readFile(join(data, entry.file));
        const F = index.featureSize;
        // The whole feature section decoded at once, against which the pieces are held.
        const want = new Float32Array(entry.samples * F);
        decodeFeaturesInto(file.subarray(0, entry.samples * featureBytes(index.encoding, F)), want, 0, F, index.encoding as CompactEncoding);
        // 14 bytes: pieces that end mid-sample, so uint8 must carry the feature position across them.
        for (const chunkBytes of [undefined, 14]) {
          const read = await readShardFile(data, entry, index, { chunkBytes });
          expect(read.features.buffer.byteLength, 'nothing but the decoded shard is held').to.equal(shardDecodedBytes(entry, index));
          expect(read.labels.buffer).to.equal(read.features.buffer);
          expect(read.masks.buffer).to.equal(read.features.buffer);
          expect([...read.features], `chunk ${chunkBytes}`).to.deep.equal([...want]);
          expect([...read.masks]).to.deep.equal([...file.subarray(file.length - entry.samples * 5)]);
          const labels = file.subarray(file.length - entry.samples * 9, file.length - entry.samples * 5);
          expect([...read.labels]).to.deep.equal([...new Int32Array(new Uint8Array(labels).buffer)]);
        }
      }
      const streamed = await stream(dir);
      const inMemory = await readShardSets(data);
      const order = streamed.epochOrder(Int32Array.from({ length: SAMPLES }, (_, i) => i), 3, 0);
      for (let from = 0; from < order.length; from += 100) {
        await streamed.prepare(order, from, from + 100);
        const got = streamed.gather(order.subarray(from, from + 100));
        const expected = inMemory.gather(order.subarray(from, from + 100));
        expect([...got.features]).to.deep.equal([...expected.features]);
        expect([...got.labels]).to.deep.equal([...expected.labels]);
      }
      streamed.close();
    });
  }

  // A thread's own niceness is Linux's (read from /proc here); elsewhere the reader keeps the process's priority.
  if (process.platform === 'linux') {
    it('reads on a thread that yields to training: 10 nicer than the training thread, which is unchanged', async () => {
      const { dir } = await shardFolder();
      const data = await stream(dir);
      const task = `/proc/${process.pid}/task`;
      // The fields after the command name, which is in parentheses and may hold any character.
      const niceness = (tid: string | number) => {
        const stat = readFileSync(`${task}/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const training = niceness(process.pid);
      // Threads of other streams may come and go meanwhile: look only at the threads that are new.
      const before = new Set(readdirSync(task));
      await data.prepare(data.epochOrder(data.split(0, 7).train, 7, 0), 0, 64);
      const started = readdirSync(task).filter((tid) => !before.has(tid)).map(niceness);
      expect(started, "this stream's reader thread").to.include(Math.min(19, training + 10));
      expect(niceness(process.pid), 'the training thread').to.equal(training);
      data.close();
    });
  }

  it('reads a span through reads that return less than asked, and fails one cut short with the bytes the file still had', async () => {
    const file = Uint8Array.from({ length: 100 }, (_, i) => i);
    // A file handle whose reads return at most 7 bytes, and nothing past `end`: a file cut short after stat.
    const handle = (end: number) => ({
      read: async (into: Uint8Array, offset: number, length: number, position: number) => {
        const n = Math.max(0, Math.min(7, length, end - position));
        into.set(file.subarray(position, position + n), offset);
        return { bytesRead: n };
      },
    });
    const into = new Uint8Array(60);
    await readSpan({ handle: handle(100), hash: undefined, short: () => new Error('short') }, into, 30);
    expect([...into]).to.deep.equal([...file.subarray(30, 90)]);
    const err = await readSpan({ handle: handle(75), hash: undefined, short: (at) => new Error(`ended at ${at}`) }, new Uint8Array(60), 30).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.equal('ended at 75');
  });

  it('refuses a budget that cannot hold a shard twice, saying what to raise it to', async () => {
    const { dir } = await shardFolder();
    const err = await openShardSets(join(dir, 'data'), SHARD_BYTES / 2 ** 20).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/a shard of 0\.00326 MB does not fit twice in data\.memoryBudgetMB \(0\.00326 MB\)/);
    expect((err as { hint?: string }).hint).to.match(/raise data\.memoryBudgetMB to at least 1/);
  });
});
