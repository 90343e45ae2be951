import { expect } from 'chai';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSynthetic, splitIndices, epochOrder, writeShards, readShards, UserError, ArrayDataset } from '@poke/core';
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
  });
});

async function patchIndex(dir: string, patch: (index: any) => void): Promise<void> {
  const path = join(dir, 'index.json');
  const index = JSON.parse(await readFile(path, 'utf8'));
  patch(index);
  await writeFile(path, JSON.stringify(index));
}
