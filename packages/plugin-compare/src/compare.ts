import { readRun, expandRunDirs } from './read-run.js';
import type { CompareOptions, CompareRow, RunData } from './types.js';

const HIGHER_IS_BETTER = /acc|auc|f1|precision|recall|win|reward|score/i;

export function defaultMode(metric: string): 'min' | 'max' {
  return HIGHER_IS_BETTER.test(metric) ? 'max' : 'min';
}

/**
 * Best first by `metric`; runs without it last (under either mode), with the
 * reason. Ties keep the order of the names. 0 is a value like any other.
 */
export function rank(rows: readonly CompareRow[]): CompareRow[] {
  const valued = rows.filter((r) => r.value !== null);
  const missing = rows.filter((r) => r.value === null);
  valued.sort((a, b) => (a.mode === 'min' ? a.value! - b.value! : b.value! - a.value!) || a.name.localeCompare(b.name));
  missing.sort((a, b) => a.name.localeCompare(b.name));
  return [...valued.map((r, i) => ({ ...r, rank: i + 1 })), ...missing];
}

/** Read and rank runs; folders that hold runs (`runs/`) expand to them. */
export async function compareRunsWithSeries(dirs: readonly string[], options: CompareOptions = {}, wantSeries = true): Promise<RunData[]> {
  const metric = options.metric ?? 'val_loss';
  const mode = options.mode ?? defaultMode(metric);
  const runs = await Promise.all((await expandRunDirs(dirs)).map((dir) => readRun(dir, metric, mode, wantSeries)));
  const ranked = rank(runs.map((r) => r.row));
  const byPath = new Map(runs.map((r) => [r.row.path, r]));
  return ranked.map((row) => ({ row, series: byPath.get(row.path)!.series }));
}

/** The program API: typed rows, best first. */
export async function compareRuns(dirs: readonly string[], options: CompareOptions = {}): Promise<CompareRow[]> {
  return (await compareRunsWithSeries(dirs, options, false)).map((r) => r.row);
}
