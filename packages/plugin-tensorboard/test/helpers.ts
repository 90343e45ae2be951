import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { tempDir } from '../../core/test/helpers.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { pythonOf } from './install.js';

const run = promisify(execFile);
const READER = join(import.meta.dirname, 'read_events.py');

export interface EventsRead {
  /** tag → [step, value, wall_time] in the order TensorBoard's reader returns them. */
  scalars: Record<string, Array<[number, number, number]>>;
  text: Record<string, Array<[number, string]>>;
  hparams: Record<string, any>;
  histograms: Record<string, Array<[number, number[][]]>>;
  /** Seconds EventAccumulator.Reload() took. */
  seconds: number;
  /** Everything TensorBoard logged at WARNING or above while loading, and Python warnings. */
  warnings: string[];
}

/** The event files of `logdir` as TensorBoard's own EventAccumulator reads them (test/read_events.py). */
export async function readWithTensorboard(bin: string, logdir: string): Promise<EventsRead> {
  const { stdout } = await run(pythonOf(bin), [READER, logdir], { maxBuffer: 1 << 30 });
  return JSON.parse(stdout) as EventsRead;
}

/** metrics.csv as step → { metric: value }, with Number() of each cell: the exact doubles the plugin was given. */
export async function csvByStep(path: string): Promise<Map<number, Record<string, number>>> {
  const rows = parse(await readFile(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
  const out = new Map<number, Record<string, number>>();
  for (const row of rows) {
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(row)) if (!['step', 'epoch', 'timestamp'].includes(k) && v !== '') metrics[k] = Number(v);
    const step = Number(row.step);
    if (out.has(step)) throw new Error(`metrics.csv has step ${step} twice`);
    out.set(step, metrics);
  }
  return out;
}

/** The scalars as step → { tag: value }, failing when a (tag, step) pair appears more than once. */
export function scalarsByStep(read: EventsRead): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const [tag, points] of Object.entries(read.scalars)) {
    for (const [step, value] of points) {
      const row = out.get(step) ?? {};
      if (tag in row) throw new Error(`TensorBoard shows ${tag} at step ${step} more than once`);
      row[tag] = value;
      out.set(step, row);
    }
  }
  return out;
}

/** What a float32 scalar holds for `v`: the exact double TensorBoard's data server returns. */
export const asFloat32 = (byStep: Map<number, Record<string, number>>) =>
  new Map([...byStep].map(([step, row]) => [step, Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Math.fround(v)]))]));

/** 22 steps an epoch, a record every step, a checkpoint every 10 steps. */
export function configFor(overrides: { scalarType?: 'float' | 'double'; learningRate?: number; histogramsEvery?: number } = {}): object {
  return {
    seed: 3,
    data: { source: 'synthetic', samples: 1500, features: 12, actions: 5 },
    model: { hiddenSizes: [16], dropout: 0.1 },
    train: { epochs: 3, batchSize: 64, logEvery: 1, backend: 'cpu', learningRate: overrides.learningRate ?? 0.001 },
    plugins: [
      ['checkpoint', { every: { steps: 10 } }],
      'csv',
      ['tensorboard', { scalarType: overrides.scalarType ?? 'float', histogramsEvery: overrides.histogramsEvery ?? 0 }],
    ],
  };
}

/** A project folder with that config as poke.config.json. */
export async function projectWith(config: object): Promise<string> {
  const dir = await tempDir('tensorboard');
  await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
  return dir;
}

