import { readFile, stat } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readManifest, readMetadata } from '@poke/plugin-checkpoint';
import type { Manifest } from '@poke/plugin-checkpoint';
import type { CompareRow, RunData, RunState, Series } from './types.js';

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A run marked running whose lock is gone or held by a dead process was killed: say so. */
async function runState(dir: string, status: unknown): Promise<RunState> {
  if (status === 'completed' || status === 'interrupted' || status === 'failed') return status;
  if (status !== 'running') return 'unknown';
  try {
    const lock = (await readJson(join(dir, '.lock'))) as { pid: number };
    process.kill(lock.pid, 0);
    return 'running';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'crashed';
  }
}

/** Each metric column of metrics.csv as (step, value) pairs; empty cells are absent, not zero. */
export function seriesFromCsv(text: string): Series {
  const rows = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  const series: Series = {};
  for (const row of rows) {
    const step = Number(row.step);
    if (!Number.isFinite(step)) continue;
    for (const [key, cell] of Object.entries(row)) {
      if (key === 'step' || key === 'epoch' || key === 'timestamp' || cell === '' || cell === undefined) continue;
      const value = Number(cell);
      if (!Number.isFinite(value)) continue;
      (series[key] ??= []).push([step, value]);
    }
  }
  return series;
}

function bestOfSeries(points: Array<[number, number]> | undefined, mode: 'min' | 'max'): [number, number] | null {
  let best: [number, number] | null = null;
  for (const p of points ?? []) if (!best || (mode === 'min' ? p[1] < best[1] : p[1] > best[1])) best = p;
  return best;
}

async function parameterCount(checkpointDir: string): Promise<number | null> {
  try {
    const model = (await readJson(join(checkpointDir, 'model.json'))) as { weightsManifest: Array<{ weights: Array<{ shape: number[] }> }> };
    return model.weightsManifest.flatMap((g) => g.weights).reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
  } catch {
    return null;
  }
}

/**
 * Everything a comparison needs from one run folder: run.json, the manifest,
 * the best checkpoint's metadata and model.json, and metrics.csv. No weights.
 */
export async function readRun(dir: string, metric: string, mode: 'min' | 'max', wantSeries = false): Promise<RunData> {
  let notARun: string | undefined;
  let manifestProblem: string | undefined;
  let noCheckpoints = false;
  const info = (await readJson(join(dir, 'run.json')).catch(() => undefined)) as
    | { status?: string; createdAt?: string; updatedAt?: string }
    | undefined;
  if (!info) notARun = 'not a poke run (no readable run.json)';
  const status = await runState(dir, info?.status);

  let manifest: Manifest | undefined;
  try {
    manifest = await readManifest(join(dir, 'checkpoints'));
    if (!manifest || manifest.entries.length === 0) noCheckpoints = true;
  } catch (err) {
    manifestProblem = `unreadable manifest: ${(err as Error).message}`;
  }
  const best = manifest?.entries.find((e) => e.id === manifest!.best) ?? manifest?.entries.find((e) => e.id === manifest!.latest);
  const metadata = best ? await readMetadata(join(dir, 'checkpoints', best.id)).catch(() => undefined) : undefined;

  let value: number | null = null;
  let valueSource: CompareRow['valueSource'] = null;
  const fromCheckpoint = manifest && best && manifest.monitor.name === metric && manifest.monitor.mode === mode && finite(best.value) !== null;
  // metrics.csv is the largest file of a run: parse it only when the answer is in it.
  const needCsv = wantSeries || !fromCheckpoint || !metadata;
  const csv = needCsv ? await readFile(join(dir, 'metrics.csv'), 'utf8').catch(() => undefined) : undefined;
  const series = csv ? seriesFromCsv(csv) : {};
  if (fromCheckpoint) {
    value = best!.value;
    valueSource = 'best-checkpoint';
  } else {
    const fromCsv = bestOfSeries(series[metric], mode);
    if (fromCsv) {
      value = fromCsv[1];
      valueSource = 'metrics.csv';
    }
  }
  // The most useful reason first: what the user can act on.
  const reason =
    value !== null
      ? null
      : (notARun ??
        (status === 'running' ? 'still running' : undefined) ??
        manifestProblem ??
        (csv !== undefined ? `${metric} was never logged` : noCheckpoints ? 'no checkpoints' : 'no metrics.csv'));

  const created = Date.parse(info?.createdAt ?? '');
  const updated = Date.parse(info?.updatedAt ?? '');
  const row: CompareRow = {
    name: basename(dir),
    path: dir,
    status,
    metric,
    mode,
    value,
    valueSource,
    rank: null,
    bestCheckpoint: manifest?.best ?? null,
    epoch: metadata?.epoch ?? null,
    step: metadata?.step ?? null,
    trainLoss: finite(metadata?.train_loss) ?? bestOfSeries(series.train_loss, 'min')?.[1] ?? null,
    valLoss: finite(metadata?.val_loss) ?? bestOfSeries(series.val_loss, 'min')?.[1] ?? null,
    valAccuracy: finite(metadata?.val_accuracy) ?? bestOfSeries(series.val_accuracy, 'max')?.[1] ?? null,
    parameters: best ? await parameterCount(join(dir, 'checkpoints', best.id)) : null,
    wallSeconds: Number.isFinite(created) && Number.isFinite(updated) ? (updated - created) / 1000 : null,
    reason,
  };
  return { row, series };
}

/** A folder that holds runs expands to them; a run folder is itself. */
export async function expandRunDirs(dirs: readonly string[]): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const dir of dirs) {
    const isRun = await stat(join(dir, 'run.json')).then(() => true, () => false);
    if (isRun) {
      out.push(dir);
      continue;
    }
    const children = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((c) => c.isDirectory() && !c.name.startsWith('.'));
    const isRunDir = await Promise.all(children.map((c) => stat(join(dir, c.name, 'run.json')).then(() => true, () => false)));
    const runs = children.filter((_, i) => isRunDir[i]).map((c) => join(dir, c.name));
    out.push(...(runs.length ? runs.sort() : [dir]));
  }
  return out;
}
