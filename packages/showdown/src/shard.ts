import { UserError } from '@poke/core';

/** Which of `count` disjoint parts of a generation run this process makes. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/**
 * `--shard I/N`, or `--shard N` with I from the scheduler: Kubernetes Indexed
 * Jobs set JOB_COMPLETION_INDEX, Slurm job arrays SLURM_ARRAY_TASK_ID (counted
 * from SLURM_ARRAY_TASK_MIN, so `--array=1-4` works too).
 */
export function parseShard(flag: string, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  const match = /^(?:(\d+)\/)?(\d+)$/.exec(flag.trim());
  if (!match) throw new UserError(`--shard ${flag}: expected I/N (this is part I of N, from 0) or N (I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)`);
  const count = Number(match[2]);
  const index = match[1] !== undefined ? Number(match[1]) : indexFromScheduler(flag, env);
  if (count < 1 || index >= count) throw new UserError(`--shard ${flag}: part ${index} of ${count} does not exist (parts count from 0 to ${count - 1})`);
  return { index, count };
}

function indexFromScheduler(flag: string, env: NodeJS.ProcessEnv): number {
  if (env.JOB_COMPLETION_INDEX !== undefined) return wholeNumber(flag, 'JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX);
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const index = wholeNumber(flag, 'SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID) - wholeNumber(flag, 'SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN ?? '0');
    if (index < 0) throw new UserError(`--shard ${flag}: SLURM_ARRAY_TASK_ID ${env.SLURM_ARRAY_TASK_ID} is below SLURM_ARRAY_TASK_MIN ${env.SLURM_ARRAY_TASK_MIN}`);
    return index;
  }
  throw new UserError(`--shard ${flag}: no part index: give I/N, or run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array (SLURM_ARRAY_TASK_ID)`);
}

/** A scheduler's index variable: digits only, or the part would be NaN. */
function wholeNumber(flag: string, name: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UserError(`--shard ${flag}: ${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/**
 * The battles of part `index`: a contiguous range, so the parts in order hold
 * exactly the battles of one unsharded run. Battle i's seed depends only on the
 * run's seed and i, so the parts' seeds are disjoint and their decisions are
 * those of the unsharded run.
 */
export function shardBattles(battles: number, { index, count }: ShardSpec): { start: number; end: number } {
  return { start: Math.floor((index * battles) / count), end: Math.floor(((index + 1) * battles) / count) };
}
