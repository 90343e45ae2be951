import { Monitor, betterFirst } from '@poke/core';
import type { MonitorMode } from '@poke/core';
import { readRun, expandRunDirs } from './read-run.js';
import { shownParamKeys, pickParams } from './params.js';
import type { CompareOptions, CompareRow, RunData } from './types.js';

/**
 * Best first by `value`; runs without a value last under either mode, by name.
 * Ties keep name order. 0 is a value like any other.
 */
export function rank(rows: readonly CompareRow[]): CompareRow[] {
  const byName = (a: CompareRow, b: CompareRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const valued = rows.filter((r) => r.value !== null);
  const missing = rows.filter((r) => r.value === null);
  valued.sort((a, b) => betterFirst(a.mode)(a.value!, b.value!) || byName(a, b));
  missing.sort(byName);
  return [...valued.map((r, i) => ({ ...r, rank: i + 1 })), ...missing.map((r) => ({ ...r, rank: null }))];
}

/** Map with at most `limit` calls in flight: a runs folder of thousands must not open thousands of files at once. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The mode by the checkpoint plugin's rule (the core's `Monitor`), so that `poke compare` and the monitor agree on a name. */
export function resolveOptions(options: CompareOptions = {}): { metric: string; mode: MonitorMode; opponent: string | undefined } {
  const { name: metric, mode } = new Monitor(options.metric ?? 'val_loss', options.mode);
  return { metric, mode, opponent: options.opponent };
}

/** Read and rank runs with their metrics over steps (for plots); folders that hold runs (`runs/`) expand to them. */
export async function compareRunsWithSeries(dirs: readonly string[], options: CompareOptions = {}, wantSeries = true): Promise<RunData[]> {
  const { metric, mode, opponent } = resolveOptions(options);
  const runs = await mapLimited(await expandRunDirs(dirs), 64, (dir) => readRun(dir, metric, mode, wantSeries, opponent));
  const keys = shownParamKeys(runs.map((r) => r.params), options.allParams ?? false);
  const byPath = new Map(runs.map((r) => [r.row.path, r]));
  return rank(runs.map((r) => ({ ...r.row, config: pickParams(r.params, keys) }))).map((row) => ({ ...byPath.get(row.path)!, row }));
}

/** The program API: typed rows, best first, runs without the metric last with a reason. */
export async function compareRuns(dirs: readonly string[], options: CompareOptions = {}): Promise<CompareRow[]> {
  return (await compareRunsWithSeries(dirs, options, false)).map((r) => r.row);
}
