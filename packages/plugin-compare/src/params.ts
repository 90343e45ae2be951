import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Keys that name or place a run rather than configure it: they differ between any two runs. */
const NOT_PARAMETERS = new Set(['runName', 'runsDir', 'configFile']);

/**
 * A run's config.json as dotted keys (`train.batchSize`) with values as JSON
 * text, arrays kept whole (`model.hiddenSizes` → `[64,64]`). Empty when the
 * file is missing or unreadable: such a run simply has no parameters to show.
 */
export function readParams(runDir: string): Record<string, string> {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  const walk = (node: unknown, path: string[]): void => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
    } else if (path.length > 0 && !NOT_PARAMETERS.has(path[0]!)) {
      out[path.join('.')] = typeof node === 'string' ? node : JSON.stringify(node ?? null);
    }
  };
  walk(config, []);
  return out;
}

/**
 * The keys whose value is not the same in every run (a key some runs lack
 * counts as differing), sorted; every key with `all`. What explains why two
 * runs differ is in these, not in the dozens of settings they share.
 */
export function shownParamKeys(runs: ReadonlyArray<Readonly<Record<string, string>>>, all: boolean): string[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))].sort();
  if (all) return keys;
  return keys.filter((key) => new Set(runs.map((r) => (Object.hasOwn(r, key) ? r[key] : undefined))).size > 1);
}

/** Only `keys` of `params`; a key the run lacks is null. */
export function pickParams(params: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(keys.map((k) => [k, Object.hasOwn(params, k) ? params[k]! : null]));
}
