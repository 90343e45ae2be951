import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One Showdown evaluation of a run, from `runs/<run>/eval*.json` (written by
 * `poke eval`; its format is not fixed yet, so this reader is lenient). A file
 * counts when it yields a win rate in [0, 1] from, in this order:
 * `winRate` or `win_rate`; `wins / games`; `wins / (wins + losses + ties)`.
 * Anything else in or about the file (unreadable, not JSON, no rate) skips it.
 */
export interface EvalResult {
  /** The file name inside the run folder, e.g. `eval-random.json`. */
  readonly file: string;
  /** `opponent` from the file, else the file name's tail (`eval-random.json` → `random`), else null. */
  readonly opponent: string | null;
  readonly games: number | null;
  readonly winRate: number;
  /** `timestamp` from the file when it parses, else the file's mtime; ISO 8601. */
  readonly timestamp: string;
}

const EVAL_FILE = /^eval[A-Za-z0-9._-]*\.json$/;

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

function rateOf(data: Record<string, unknown>): { winRate: number; games: number | null } | null {
  const wins = count(data.wins);
  const games = count(data.games) ?? (wins !== null && count(data.losses) !== null ? wins + count(data.losses)! + (count(data.ties) ?? 0) : null);
  const given = typeof data.winRate === 'number' ? data.winRate : typeof data.win_rate === 'number' ? data.win_rate : null;
  const winRate = given ?? (wins !== null && games ? wins / games : null);
  if (winRate === null || !Number.isFinite(winRate) || winRate < 0 || winRate > 1) return null;
  return { winRate, games };
}

/** Every readable eval*.json of a run, oldest first (small files, read synchronously like the rest of a run). */
export async function readEvals(runDir: string, names?: readonly string[]): Promise<EvalResult[]> {
  let listing = names;
  try {
    listing ??= readdirSync(runDir);
  } catch {
    listing = [];
  }
  const files = listing.filter((n) => EVAL_FILE.test(n));
  const results: EvalResult[] = [];
  for (const file of files.sort()) {
    try {
      const path = join(runDir, file);
      const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
      const record = data as Record<string, unknown>;
      const rate = rateOf(record);
      if (!rate) continue;
      const stamped = typeof record.timestamp === 'string' ? Date.parse(record.timestamp) : NaN;
      const time = Number.isFinite(stamped) ? stamped : statSync(path).mtimeMs;
      const tail = file.slice('eval'.length, -'.json'.length).replace(/^[._-]+/, '');
      const opponent = typeof record.opponent === 'string' && record.opponent ? record.opponent : tail || null;
      results.push({ file, opponent, games: rate.games, winRate: rate.winRate, timestamp: new Date(time).toISOString() });
    } catch {
      // an unreadable or half-written file: not an evaluation (yet)
    }
  }
  return results.sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.file.localeCompare(b.file));
}
