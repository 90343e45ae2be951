import { expect } from 'chai';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSynthetic, writeShards, readShards, readShardSets, UserError, ArrayDataset } from '@poke/core';
import { splitIndices, epochOrder, firstInvalidSample, throttle } from '@poke/core/internal';
import type { Batch, DataProgress, DataSource, Dataset, PokePlugin } from '@poke/core';
import { tempDir, makeTrainer, smallConfig } from './helpers.js';

const OPTIONS = { samples: 300, features: 8, actions: 5, legalProbability: 0.6, noise: 0.1 };

describe('data', () => {
  it('synthetic data is reproducible from its seed and labels are always legal', () => {
    const a = generateSynthetic(OPTIONS, 3);
    const b = generateSynthetic(OPTIONS, 3);
    const c = generateSynthetic(OPTIONS, 4);
    expect(a.features).to.deep.equal(b.features);
    expect(a.labels).to.deep.equal(b.labels);
    expect(a.features).to.not.deep.equal(c.features);
    expect(a.firstInvalidSample()).to.equal(undefined);
    for (let i = 0; i < a.size; i++) {
      const mask = a.masks.subarray(i * 5, i * 5 + 5);
      expect(mask.some((m) => m === 1)).to.equal(true);
    }
  });

  it('splits deterministically into disjoint train and validation sets', () => {
    const s1 = splitIndices(1000, 0.2, 9);
    const s2 = splitIndices(1000, 0.2, 9);
    expect(s1.val.length).to.equal(200);
    expect(s1.train.length).to.equal(800);
    expect(s1).to.deep.equal(s2);
    const all = new Set([...s1.train, ...s1.val]);
    expect(all.size).to.equal(1000);
    expect(splitIndices(1000, 0, 9).val.length).to.equal(0);
  });

  it('shuffles each epoch differently but reproducibly', () => {
    const { train } = splitIndices(100, 0.1, 1);
    expect(epochOrder(train, 1, 0)).to.deep.equal(epochOrder(train, 1, 0));
    expect(epochOrder(train, 1, 0)).to.not.deep.equal(epochOrder(train, 1, 1));
    expect([...epochOrder(train, 1, 0)].sort((x, y) => x - y)).to.deep.equal([...train]);
  });

  describe('shards', () => {
    it('round-trip exactly through several shard files', async () => {
      const dir = await tempDir('shards');
      const data = generateSynthetic(OPTIONS, 5);
      const index = await writeShards(dir, data, { shardSize: 128, meta: { origin: 'test' } });
      expect(index.shards.map((s) => s.samples)).to.deep.equal([128, 128, 44]);
      const back = await readShards(dir);
      expect(back.features).to.deep.equal(data.features);
      expect(back.labels).to.deep.equal(data.labels);
      expect(back.masks).to.deep.equal(data.masks);
    });

    it('train through the shards data source, relative to the config folder', async () => {
      const dir = await tempDir('shards');
      await writeShards(join(dir, 'demos'), generateSynthetic(OPTIONS, 5));
      const trainer = await makeTrainer({ ...smallConfig({ train: { epochs: 1 } }), data: { source: 'shards', path: './demos' } }, dir);
      const summary = await trainer.run();
      expect(summary.samplesSeen).to.equal(270);
      expect(trainer.context!.valSamples).to.equal(30);
    });

    const corruptions: Array<[string, (dir: string) => Promise<void>, string]> = [
      ['a file name that leaves the folder', async (dir) => patchIndex(dir, (i) => (i.shards[0].file = '../outside.bin')), 'must match pattern'],
      ['an absolute file name', async (dir) => patchIndex(dir, (i) => (i.shards[0].file = '/etc/passwd')), 'must match pattern'],
      ['a wrong sample count', async (dir) => patchIndex(dir, (i) => (i.shards[0].samples = 99)), 'bytes, expected'],
      ['an altered shard', async (dir) => {
        const path = join(dir, 'shard-00000.bin');
        const bytes = await readFile(path);
        bytes[10] = bytes[10]! ^ 0xff;
        await writeFile(path, bytes);
      }, 'does not match its sha256'],
      ['a missing index', async (dir) => writeFile(join(dir, 'index.json'), '{'), 'is not valid JSON'],
      ['a wrong format tag', async (dir) => patchIndex(dir, (i) => (i.format = 'npz')), 'format must be equal to constant'],
    ];
    for (const [what, corrupt, message] of corruptions) {
      it(`refuse ${what} with a clear error`, async () => {
        const dir = await tempDir('shards');
        await writeShards(dir, generateSynthetic(OPTIONS, 5));
        await corrupt(dir);
        const err = await readShards(dir).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(UserError);
        expect((err as Error).message).to.include(message);
      });
    }

    it('refuse samples whose label is not a legal action', async () => {
      const dir = await tempDir('shards');
      const data = generateSynthetic(OPTIONS, 5);
      const masks = data.masks.slice();
      masks[data.labels[0]!] = 0;
      await writeShards(dir, new ArrayDataset(data.features, data.labels, masks, 8, 5));
      const err = await readShards(dir).catch((e: unknown) => e);
      expect((err as Error).message).to.include('sample 0: label').and.include('not a legal action');
    });

    it('read several sets into one dataset, in order, and name a bad sample by its own set', async () => {
      const dir = await tempDir('shard-sets');
      const a = generateSynthetic(OPTIONS, 5) as ArrayDataset;
      const b = generateSynthetic(OPTIONS, 6) as ArrayDataset;
      await writeShards(join(dir, 'a'), a, { shardSize: 30 });
      await writeShards(join(dir, 'b'), b, { shardSize: 30 });
      const both = await readShardSets(dir);
      expect(both.size).to.equal(a.size + b.size);
      expect(Buffer.from(both.features.buffer).equals(Buffer.concat([Buffer.from(a.features.buffer), Buffer.from(b.features.buffer)]))).to.equal(true);
      expect([...both.labels]).to.deep.equal([...a.labels, ...b.labels]);
      expect(Buffer.from(both.masks).equals(Buffer.concat([Buffer.from(a.masks), Buffer.from(b.masks)]))).to.equal(true);
      const masks = b.masks.slice();
      masks[3 * 5 + b.labels[3]!] = 0;
      await writeShards(join(dir, 'b'), new ArrayDataset(b.features, b.labels, masks, 8, 5), { shardSize: 30 });
      const err = await readShardSets(dir).catch((e: unknown) => e);
      expect((err as Error).message).to.satisfy((m: string) => m.startsWith(`shards: ${join(dir, 'b')}: sample 3: label`));
    });
  });
});

/** A plugin adding a source that returns `dataset` after reporting `steps` counted progress events. */
function sourcePlugin(dataset: Dataset, steps = 0): PokePlugin {
  const source: DataSource = {
    name: 'custom',
    schema: { type: 'object' },
    async load(_options, context) {
      context.progress('custom: starting');
      for (let i = 1; i <= steps; i++) context.progress(`custom: ${i}/${steps}`, i, steps);
      return dataset;
    },
  };
  return { name: 'custom-source', apply: (trainer) => trainer.registerDataSource(source) };
}

/** A Dataset that is not an ArrayDataset, so the core cannot read its arrays directly. */
function opaque(data: ArrayDataset): Dataset {
  return { size: data.size, featureSize: data.featureSize, actionCount: data.actionCount, gather: (i): Batch => data.gather(i) };
}

describe('data sources from plugins', () => {
  it('every sample a source returns is checked before training: a NaN feature is refused with the sample', async () => {
    const dir = await tempDir('source');
    const data = generateSynthetic(OPTIONS, 5);
    const features = data.features.slice();
    features[250 * 8 + 3] = Number.NaN;
    const bad = opaque(new ArrayDataset(features, data.labels, data.masks, 8, 5));
    expect(firstInvalidSample(bad, 64)).to.deep.equal({ index: 250, reason: 'a feature is NaN or infinite' });
    const trainer = await makeTrainer(smallConfig({ data: { source: 'custom' } }), dir, { plugins: [sourcePlugin(bad)] });
    const err = await trainer.run().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as Error).message).to.equal('data source "custom" returned an invalid sample 250: a feature is NaN or infinite');
  });

  it('refuses an illegal label and an empty dataset from a source', async () => {
    const dir = await tempDir('source');
    const data = generateSynthetic(OPTIONS, 5);
    const labels = data.labels.slice();
    labels[7] = 5;
    const illegal = new ArrayDataset(data.features, labels, data.masks, 8, 5);
    const empty = new ArrayDataset(new Float32Array(0), new Int32Array(0), new Uint8Array(0), 8, 5);
    for (const [dataset, message] of [
      [illegal, 'returned an invalid sample 7: label 5 is outside 0..4'],
      [empty, 'returned no samples'],
    ] as const) {
      const trainer = await makeTrainer(smallConfig({ data: { source: 'custom' } }), dir, { plugins: [sourcePlugin(dataset)] });
      const err = await trainer.run().catch((e: unknown) => e);
      expect((err as Error).message).to.include(message);
    }
  });

  it('hands every progress event, with done and total, to the dataProgress hook', async () => {
    const dir = await tempDir('source');
    const events: DataProgress[] = [];
    const listener: PokePlugin = { name: 'listener', apply: (t) => t.hooks.dataProgress.tap('listener', (e) => void events.push(e)) };
    const trainer = await makeTrainer(smallConfig({ data: { source: 'custom' }, train: { epochs: 1 } }), dir, {
      plugins: [sourcePlugin(generateSynthetic(OPTIONS, 5), 50), listener],
    });
    await trainer.run();
    expect(events).to.have.length(51);
    expect(events[0]).to.deep.equal({ source: 'custom', message: 'custom: starting' });
    expect(events[50]).to.deep.equal({ source: 'custom', message: 'custom: 50/50', done: 50, total: 50 });
  });

  it('without a progress tap, logs uncounted messages and the last counted one, not every event', async () => {
    const dir = await tempDir('source');
    const lines: string[] = [];
    const logger = { info: (m: string) => void lines.push(m), warn() {} };
    const trainer = await makeTrainer(smallConfig({ data: { source: 'custom' }, train: { epochs: 1 } }), dir, {
      plugins: [sourcePlugin(generateSynthetic(OPTIONS, 5), 10_000)],
      logger,
    });
    await trainer.run();
    const progress = lines.filter((l) => l.startsWith('custom:'));
    expect(progress).to.include('custom: starting').and.include('custom: 10000/10000');
    expect(progress.length).to.be.lessThan(100);
  });

  it('throttle opens once per interval and always for a final event', () => {
    let now = 0;
    const gate = throttle(1000, () => now);
    const opened = [0, 10, 999, 1000, 1500, 2100].map((t) => ((now = t), gate()));
    expect(opened).to.deep.equal([true, false, false, true, false, true]);
    expect(gate(true)).to.equal(true);
  });
});

async function patchIndex(dir: string, patch: (index: any) => void): Promise<void> {
  const path = join(dir, 'index.json');
  const index = JSON.parse(await readFile(path, 'utf8'));
  patch(index);
  await writeFile(path, JSON.stringify(index));
}
