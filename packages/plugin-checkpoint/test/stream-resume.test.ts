import { expect } from 'chai';
import { join } from 'node:path';
import { generateSynthetic, writeShards } from '@poke/core';
import type { ArrayDataset, UserConfig } from '@poke/core';
import checkpoint from '@poke/plugin-checkpoint';
import { makeTrainer, smallConfig, tempDir, weightsOf } from '../../core/test/helpers.js';
import { collectRecords, rowsOf } from './helpers.js';

/** 10 shards of 3,420 bytes; the budget holds 6 of them, so the set (34 kB) is streamed. */
const BUDGET_MB = (6 * 60 * 57 + 100) / 2 ** 20;

describe('a streamed shard set resumes mid-epoch bit for bit', () => {
  it('interrupted mid-epoch and resumed from the last checkpoint: the weights and metric rows of an uninterrupted run', async () => {
    const dir = await tempDir('stream-resume');
    const whole = generateSynthetic({ samples: 600, features: 12, actions: 5, legalProbability: 0.7, noise: 0.1 }, 4) as ArrayDataset;
    await writeShards(join(dir, 'data'), whole, { shardSize: 60 });
    const user = (runName: string): UserConfig => ({ ...smallConfig({ runName, train: { epochs: 3 } }), data: { source: 'shards', path: 'data', memoryBudgetMB: BUDGET_MB } });

    const straight = await makeTrainer(user('straight'), dir, { plugins: [checkpoint()] });
    const straightRows = collectRecords(straight);
    await straight.run();

    const first = await makeTrainer(user('cut'), dir, { plugins: [checkpoint()] });
    const firstRows = collectRecords(first);
    first.hooks.afterStep.tap('test:stop', ({ globalStep }) => void (globalStep === 13 && first.stop('test')));
    expect((await first.run()).status).to.equal('interrupted');

    const second = await makeTrainer(user('cut'), dir, { plugins: [checkpoint()], resume: 'latest' });
    const secondRows = collectRecords(second);
    await second.run();
    expect(await weightsOf(second)).to.deep.equal(await weightsOf(straight));
    expect(rowsOf([...firstRows.filter((r) => r.step <= 13), ...secondRows])).to.deep.equal(rowsOf(straightRows));
  });
});
