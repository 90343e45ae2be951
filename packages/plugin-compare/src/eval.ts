import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One Showdown evaluation of a run, from `runs/<run>/eval*.json`. `poke eval`
 * writes `eval.json` as one record per opponent (`{ "random": {…}, "expert": {…} }`);
 * a file may also hold a single record, and other tools' files are read leniently.
 * A record counts when it yields a win rate in [0, 1] from, in this order:
 * `winRate` or `win_rate`; `wins / games` (or `battles`); `wins / (wins + losses + ties)`.
 * Anything else in or about the file (unreadable, not JSON, no rate) skips it.
 */
export interface EvalResult {
  /** The file name inside the run folder, e.g. `eval-random.json`. */
  readonly file: string;
  /** `opponent` from the file, else the file name's tail (`eval-random.json` → `random`), else null. */
  readonly opponent: string | null;
  readonly games: number | null;
  readonly winRate: number;
  /** The 95% interval of the win rate when the file gives one (`ci95: [low, high]`). */
  readonly ci95: readonly [number, number] | null;
  /** `timestamp` from the file when it parses, else the file's mtime; ISO 8601. */
  readonly timestamp: string;
}

const EVAL_FILE = /^eval[A-Za-z0-9._-]*\.json$/;

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

function rateOf(data: Record<string, unknown>): { winRate: number; games: number | null } | null {
  const wins = count(data.wins);
  const games = count(data.games) ?? count(data.battles) ?? (wins !== null && count(data.losses) !== null ? wins + count(data.losses)! + (count(data.ties) ?? 0) : null);
  const given = typeof data.winRate === 'number' ? data.winRate : typeof data.win_rate === 'number' ? data.win_rate : null;
  const winRate = given ?? (wins !== null && games ? wins / games : null);
  if (winRate === null || !Number.isFinite(winRate) || winRate < 0 || winRate > 1) return null;
  return { winRate, games };
}

function interval(value: unknown): [number, number] | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [low, high] = value as unknown[];
  return typeof low === 'number' && typeof high === 'number' && 0 <= low && low <= high && high <= 1 ? [low, high] : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The evaluations one file holds: itself when it has a rate, else each keyed record that has one. */
function evalsIn(file: string, data: Record<string, unknown>, mtimeMs: number): EvalResult[] {
  const tail = file.slice('eval'.length, -'.json'.length).replace(/^[._-]+/, '');
  const entries: Array<[string | null, Record<string, unknown>]> = rateOf(data)
    ? [[tail || null, data]]
    : Object.entries(data).filter((e): e is [string, Record<string, unknown>] => isRecord(e[1]));
  const results: EvalResult[] = [];
  for (const [key, record] of entries) {
    const rate = rateOf(record);
    if (!rate) continue;
    const named = [record.opponent, record.vs].find((v): v is string => typeof v === 'string' && v.length > 0);
    const stamped = typeof record.timestamp === 'string' ? Date.parse(record.timestamp) : NaN;
    results.push({
      file,
      opponent: named ?? key,
      games: rate.games,
      winRate: rate.winRate,
      ci95: interval(record.ci95),
      timestamp: new Date(Number.isFinite(stamped) ? stamped : mtimeMs).toISOString(),
    });
  }
  return results;
}

/** Every readable evaluation in a run's eval*.json files, oldest first (small files, read synchronously like the rest of a run). */
export async function readEvals(runDir: string, names?: readonly string[]): Promise<EvalResult[]> {
  let listing = names;
  try {
    listing ??= readdirSync(runDir);
  } catch {
    listing = [];
  }
  const results: EvalResult[] = [];
  for (const file of listing.filter((n) => EVAL_FILE.test(n)).sort()) {
    try {
      const path = join(runDir, file);
      const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (isRecord(data)) results.push(...evalsIn(file, data, statSync(path).mtimeMs));
    } catch {
      // an unreadable or half-written file: not an evaluation (yet)
    }
  }
  return results.sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.file.localeCompare(b.file));
}
