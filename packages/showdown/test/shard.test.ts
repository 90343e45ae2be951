import { expect } from 'chai';
import { join } from 'node:path';
import { readShards, readShardSets, readShardIndex, isUserError } from '@poke/core';
import { tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';
import { parseShard, shardBattles } from '../src/shard.js';

describe('sharded generation', function () {
  it('takes the part from I/N, or from the Kubernetes or Slurm index with N alone', () => {
    expect(parseShard('1/4', {})).to.deep.equal({ index: 1, count: 4 });
    expect(parseShard('4', { JOB_COMPLETION_INDEX: '3' })).to.deep.equal({ index: 3, count: 4 });
    expect(parseShard('4', { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1' })).to.deep.equal({ index: 3, count: 4 });
    const refused: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
      ['4/4', {}, /part 4 of 4 does not exist/],
      ['4', {}, /no part index/],
      ['x/2', {}, /expected I\/N/],
      ['2', { JOB_COMPLETION_INDEX: '2' }, /part 2 of 2 does not exist/],
      // A scheduler variable that is not a whole number, or a Slurm index below the array's first, names no part.
      ['4', { JOB_COMPLETION_INDEX: 'x' }, /JOB_COMPLETION_INDEX must be a whole number, got "x"/],
      ['4', { JOB_COMPLETION_INDEX: '-1' }, /JOB_COMPLETION_INDEX must be a whole number/],
      ['4', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '1' }, /SLURM_ARRAY_TASK_ID 0 is below SLURM_ARRAY_TASK_MIN 1/],
      ['4', { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: 'one' }, /SLURM_ARRAY_TASK_MIN must be a whole number/],
    ];
    for (const [flag, env, message] of refused) {
      let err: unknown;
      try {
        parseShard(flag, env);
      } catch (e) {
        err = e;
      }
      expect(isUserError(err), `--shard ${flag} ${JSON.stringify(env)}`).to.equal(true);
      expect((err as Error).message).to.match(message);
    }
  });

  it('splits the battles into contiguous parts that cover them once', () => {
    for (const [battles, count] of [[7, 3], [2, 5], [200, 8]] as const) {
      const parts = Array.from({ length: count }, (_, index) => shardBattles(battles, { index, count }));
      expect(parts[0]!.start).to.equal(0);
      expect(parts.at(-1)!.end).to.equal(battles);
      for (let i = 1; i < count; i++) expect(parts[i]!.start).to.equal(parts[i - 1]!.end);
    }
  });

  it('--shard 0/2 and 1/2 hold exactly the decisions of one unsharded run, read as one dataset whatever the folder names', async () => {
    const dir = await tempDir('shard');
    const common = ['data', 'generate', '--battles', '5', '--seed', '3', '--workers', '1'];
    // Folder names sort the other way round from the parts: the order must come from the parts.
    const runs = [
      poke([...common, '--out', 'whole'], dir),
      poke([...common, '--shard', '0/2', '--out', join('sets', 'z-first')], dir),
      poke([...common, '--shard', '2', '--out', join('sets', 'a-second')], dir, { JOB_COMPLETION_INDEX: '1' }),
    ];
    for (const result of await Promise.all(runs)) expect(result.code, result.stderr).to.equal(0);
    expect((await readShardIndex(join(dir, 'sets', 'a-second'))).meta?.shard).to.deep.include({ index: 1, count: 2 });
    const whole = await readShards(join(dir, 'whole'));
    const sets = await readShardSets(join(dir, 'sets'));
    expect(sets.size).to.equal(whole.size);
    expect(Buffer.from(sets.features.buffer).equals(Buffer.from(whole.features.buffer))).to.equal(true);
    expect([...sets.labels]).to.deep.equal([...whole.labels]);
    expect(Buffer.from(sets.masks).equals(Buffer.from(whole.masks))).to.equal(true);
  });

  it('refuses a folder of parts with one missing', async () => {
    const dir = await tempDir('shard');
    const result = await poke(['data', 'generate', '--battles', '4', '--workers', '1', '--shard', '1/3', '--out', join('sets', 'b')], dir);
    expect(result.code, result.stderr).to.equal(0);
    const err = await readShardSets(join(dir, 'sets')).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.include('lacks parts 0/3, 2/3 of its sharded generation');
  });
});
