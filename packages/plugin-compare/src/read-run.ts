import { readFileSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, basename, resolve, relative, isAbsolute } from 'node:path';
import { parse } from 'csv-parse/sync';
import { isBetter } from '@poke/core';
import type { MonitorMode } from '@poke/core';
import { readManifest, readMetadata } from '@poke/plugin-checkpoint/hooks';
import { readParams } from './params.js';
import type { Manifest } from '@poke/plugin-checkpoint/hooks';
import { readEvals } from './eval.js';
import type { CompareRow, RunData, RunState, Series } from './types.js';

/** The metric name that ranks by the newest eval*.json's win rate (falls back to a metrics.csv column of that name). */
export const WIN_RATE = 'win_rate';

/*
 * The run's own small files (run.json, .lock, model.json, metrics.csv, eval*.json,
 * the folder listing) are read synchronously: for files of a few KB that is
 * about 4× faster than fs/promises (one call instead of open, fstat, read and
 * close through the thread pool), which is most of the time of ranking 1,000
 * runs. The manifest and metadata go through the readers of
 * @poke/plugin-checkpoint's light entry, which validate them against their schemas.
 */
function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The trainer's own count of the seconds it ran (runs written before it existed have none). */
function activeSecondsOf(info: { activeSeconds?: unknown } | undefined): number | null {
  const seconds = finite(info?.activeSeconds);
  return seconds !== null && seconds >= 0 ? seconds : null;
}

/**
 * run.json's status, except that a run marked running whose lock (`.lock`,
 * written by the core) is gone, or held by a dead process of this machine,
 * was killed: it reads `crashed`. A lock of another machine cannot be checked
 * and counts as alive.
 */
async function runState(dir: string, status: unknown): Promise<RunState> {
  if (status === 'completed' || status === 'interrupted' || status === 'failed') return status;
  if (status !== 'running') return 'unknown';
  let lock: { pid?: unknown; hostname?: unknown };
  try {
    lock = readJson(join(dir, '.lock')) as { pid?: unknown; hostname?: unknown };
  } catch (err) {
    // No lock: the process released it on exit without writing a final status.
    // An unreadable one: a process is between creating and writing it.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'crashed' : 'running';
  }
  if (typeof lock.hostname === 'string' && lock.hostname !== hostname()) return 'running';
  if (typeof lock.pid !== 'number') return 'running';
  try {
    process.kill(lock.pid, 0);
    return 'running';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'crashed';
  }
}

/** A metrics.csv line that was left out, and why. */
export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  why: string;
}

/** Where the header record ends: the first line break outside quotes (a quoted name may hold one). */
function headerEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted; // a doubled quote inside quotes toggles twice
    else if (c === '\n' && !quoted) return i;
  }
  return text.length;
}

/** One line's cells: plain splitting without a quote (poke's rows are numbers only), otherwise csv-parse. */
function cellsOf(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const records = parse(line, { relax_column_count: true }) as string[][];
  if (records.length !== 1) throw new Error('not one record');
  return records[0]!;
}

/**
 * Each metric column of metrics.csv as (step, value) pairs; empty cells are
 * absent, not zero. A row is one line: a line that does not parse (a stray
 * quote) or has no numeric step is skipped and listed, and the rest is read.
 * Only a header that does not parse makes the file unreadable (it throws).
 */
export function readSeries(text: string): { series: Series; skipped: SkippedLine[] } {
  // No prototype: a column named __proto__ is just a column.
  const series: Series = Object.create(null) as Series;
  const skipped: SkippedLine[] = [];
  const end = headerEnd(text);
  const headerText = text.slice(0, end).replace(/\r$/, '');
  if (headerText === '') return { series, skipped };
  const header = (parse(headerText, { relax_column_count: true }) as string[][])[0] ?? [];
  const stepAt = header.indexOf('step');
  if (stepAt < 0) return { series, skipped };
  const columns: Array<[index: number, points: Array<[number, number]>]> = [];
  for (const [i, name] of header.entries()) {
    if (name === 'step' || name === 'epoch' || name === 'timestamp' || Object.hasOwn(series, name)) continue;
    const points: Array<[number, number]> = [];
    series[name] = points;
    columns.push([i, points]);
  }
  let line = headerText.split('\n').length;
  for (const raw of text.slice(end + 1).split('\n')) {
    line++;
    const trimmed = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (trimmed === '') continue;
    let row: string[];
    try {
      row = cellsOf(trimmed);
    } catch {
      skipped.push({ line, why: 'bad quoting' });
      continue;
    }
    const cell = row[stepAt];
    const step = Number(cell);
    if (cell === undefined || cell === '' || !Number.isFinite(step)) {
      skipped.push({ line, why: 'no numeric step' });
      continue;
    }
    for (const [i, points] of columns) {
      const text = row[i];
      if (text === undefined || text === '') continue;
      const value = Number(text);
      if (Number.isFinite(value)) points.push([step, value]);
    }
  }
  for (const [name, points] of Object.entries(series)) if (points.length === 0) delete series[name];
  return { series, skipped };
}

/** Each metric column of metrics.csv as (step, value) pairs; bad lines are left out (see readSeries). */
export function seriesFromCsv(text: string): Series {
  return readSeries(text).series;
}

/** One line for a file's skipped lines: how many, and the first few with their reason. */
export function skippedLinesWarning(path: string, skipped: readonly SkippedLine[]): string {
  const shown = skipped.slice(0, 3).map((s) => `line ${s.line}: ${s.why}`).join('; ');
  return `${path}: skipped ${skipped.length} unreadable line${skipped.length === 1 ? '' : 's'} (${shown}${skipped.length > 3 ? '; …' : ''})`;
}

/** The best (step, value) by mode; the earliest on a tie. */
export function bestOfSeries(points: ReadonlyArray<readonly [number, number]> | undefined, mode: MonitorMode): readonly [number, number] | null {
  let best: readonly [number, number] | null = null;
  for (const p of points ?? []) if (!best || isBetter(p[1], best[1], mode)) best = p;
  return best;
}

/** Sum of the products of the weight shapes in model.json's weightsManifest: a small JSON file, no weights. */
async function parameterCount(checkpointDir: string): Promise<number | null> {
  try {
    const model = readJson(join(checkpointDir, 'model.json')) as { weightsManifest?: Array<{ weights?: Array<{ shape?: unknown }> }> };
    let total = 0;
    for (const group of model.weightsManifest ?? []) {
      for (const weight of group.weights ?? []) {
        if (!Array.isArray(weight.shape) || !weight.shape.every((d) => Number.isInteger(d) && d >= 0)) return null;
        total += (weight.shape as number[]).reduce((a, b) => a * b, 1);
      }
    }
    return Array.isArray(model.weightsManifest) ? total : null;
  } catch {
    return null;
  }
}

/**
 * Everything a comparison needs from one run folder: run.json, the manifest,
 * the best checkpoint's metadata and model.json, metrics.csv when the answer
 * is in it, and eval*.json. No weights.
 */
export async function readRun(dir: string, metric: string, mode: MonitorMode, wantSeries = false, opponent?: string): Promise<RunData> {
  let manifestProblem: string | undefined;
  let noCheckpoints = false;
  let names: string[] | undefined;
  try {
    names = readdirSync(dir);
  } catch {
    names = undefined;
  }
  const runJson = names?.includes('run.json') ? readText(join(dir, 'run.json')) : undefined;
  let parsed: unknown;
  try {
    parsed = runJson === undefined ? undefined : JSON.parse(runJson);
  } catch {
    parsed = undefined;
  }
  const info = (typeof parsed === 'object' && parsed !== null ? parsed : undefined) as
    | { status?: string; createdAt?: string; updatedAt?: string; activeSeconds?: unknown; parent?: unknown }
    | undefined;
  const notARun = info === undefined ? 'not a poke run (no readable run.json)' : undefined;
  const status = await runState(dir, info?.status);

  let manifest: Manifest | undefined;
  try {
    manifest = await readManifest(join(dir, 'checkpoints'));
    if (!manifest || manifest.entries.length === 0) noCheckpoints = true;
  } catch (err) {
    manifestProblem = `unreadable manifest: ${(err as Error).message}`;
  }
  // The best checkpoint; without one (no validation yet), the latest, for the columns only.
  const best = manifest?.entries.find((e) => e.id === manifest!.best) ?? manifest?.entries.find((e) => e.id === manifest!.latest);
  const metadata = best ? await readMetadata(join(dir, 'checkpoints', best.id)).catch(() => undefined) : undefined;
  const evals = names?.some((n) => n.startsWith('eval')) ? await readEvals(dir, names) : [];
  // Win rates against different opponents do not compare: with an opponent named, only its evaluations count.
  const latestEval = (opponent === undefined ? evals : evals.filter((e) => e.opponent === opponent)).at(-1);

  let value: number | null = null;
  let valueStep: number | null = null;
  let valueSource: CompareRow['valueSource'] = null;
  const fromEval = metric === WIN_RATE && latestEval !== undefined;
  const missingEval = metric === WIN_RATE && opponent !== undefined && latestEval === undefined;
  const fromCheckpoint =
    !fromEval && best !== undefined && best.id === manifest!.best && manifest!.monitor.name === metric && manifest!.monitor.mode === mode && finite(best.value) !== null;
  // metrics.csv is the largest file of a run: parse it only when the answer is in it.
  const needCsv = wantSeries || !(fromCheckpoint || fromEval) || !metadata;
  const csv = needCsv && names?.includes('metrics.csv') ? readText(join(dir, 'metrics.csv')) : undefined;
  let series: Series = {};
  let csvProblem: string | undefined;
  const warnings: string[] = [];
  try {
    if (csv) {
      const read = readSeries(csv);
      series = read.series;
      if (read.skipped.length) warnings.push(skippedLinesWarning(join(dir, 'metrics.csv'), read.skipped));
    }
  } catch (err) {
    csvProblem = `unreadable metrics.csv header: ${(err as Error).message.split('\n')[0]}`;
  }
  if (fromEval) {
    value = latestEval.winRate;
    valueSource = 'eval';
  } else if (missingEval) {
    // no fallback to a metrics.csv column: that would not be a win rate against this opponent
  } else if (fromCheckpoint) {
    value = best!.value;
    valueStep = best!.step;
    valueSource = 'best-checkpoint';
  } else {
    const fromCsv = bestOfSeries(series[metric], mode);
    if (fromCsv) {
      [valueStep, value] = fromCsv;
      valueSource = 'metrics.csv';
    }
  }
  // The most useful reason first: what the user can act on.
  const reason =
    value !== null
      ? null
      : (notARun ??
        (status === 'running' ? 'still running' : undefined) ??
        (missingEval ? `no evaluation vs ${opponent} (poke eval ${commandPath(dir)} --vs ${opponent})` : undefined) ??
        manifestProblem ??
        csvProblem ??
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
    valueStep,
    rank: null,
    bestCheckpoint: manifest?.best ?? null,
    epoch: metadata?.epoch ?? null,
    step: metadata?.step ?? null,
    trainLoss: finite(metadata?.train_loss) ?? bestOfSeries(series.train_loss, 'min')?.[1] ?? null,
    valLoss: finite(metadata?.val_loss) ?? bestOfSeries(series.val_loss, 'min')?.[1] ?? null,
    valAccuracy: finite(metadata?.val_accuracy) ?? bestOfSeries(series.val_accuracy, 'max')?.[1] ?? null,
    parameters: best ? await parameterCount(join(dir, 'checkpoints', best.id)) : null,
    wallSeconds: activeSecondsOf(info) ?? (Number.isFinite(created) && Number.isFinite(updated) && updated >= created ? (updated - created) / 1000 : null),
    winRate: latestEval?.winRate ?? null,
    winRateVs: latestEval?.opponent ?? null,
    evals,
    parent: parentOf(info?.parent),
    config: {},
    reason,
  };
  return { row, series, warnings, params: readParams(dir) };
}

function isRunDir(dir: string): boolean {
  try {
    return statSync(join(dir, 'run.json')).isFile();
  } catch {
    return false;
  }
}

/**
 * A run folder is itself; a folder that holds runs (`runs/`) expands to its
 * runs, sorted by name; anything else stays, to be listed with a reason.
 * Each folder appears once.
 */
export async function expandRunDirs(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const given of dirs) {
    const dir = resolve(given);
    if (isRunDir(dir)) {
      out.push(dir);
      continue;
    }
    let children: string[] = [];
    try {
      children = readdirSync(dir, { withFileTypes: true })
        .filter((c) => c.isDirectory() && !c.name.startsWith('.'))
        .map((c) => join(dir, c.name));
    } catch {
      // not a folder, or unreadable: listed with its reason
    }
    const found = children.filter(isRunDir).sort();
    out.push(...(found.length ? found : [dir]));
  }
  return [...new Set(out)];
}

/** run.json's `parent`, as far as it reads: a run from disk may hold anything there. */
function parentOf(value: unknown): CompareRow['parent'] {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  if (typeof p.checkpoint !== 'string') return null;
  return { run: typeof p.runName === 'string' ? p.runName : null, runId: typeof p.runId === 'string' ? p.runId : null, checkpoint: p.checkpoint };
}

/** The run folder as a command run from here can name it: relative when inside the current folder. */
function commandPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  const path = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
  return /^[\w./@+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
