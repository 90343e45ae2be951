import { mkdtemp, mkdir, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { CheckpointManager } from '@poke/plugin-checkpoint';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One line of the summary every scenario contributes to. */
export interface ScenarioCount {
  scenario: string;
  runs: number;
  faults: number;
  resumed: number;
  recordsLost: number;
  notes?: string;
}

export const summary: ScenarioCount[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const root = join(REPO_ROOT, '.cache', 'chaos-tmp');
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${prefix}-`));
}

export { startPoke as start, poke, holdAt } from '../packages/cli/test/helpers.js';
export type { Result as Outcome, Running as Child } from '../packages/cli/test/helpers.js';

/** Every listed checkpoint verifies; returns how many were checked. Throws with the failures otherwise. */
export async function verifyCheckpoints(runDir: string): Promise<number> {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(join(dir, 'checkpoints.json'))) return 0;
  const manager = await CheckpointManager.open(dir, { monitor: { name: 'val_loss', mode: 'min' } });
  const results = await manager.verifyAll();
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`checkpoints failed verification: ${failed.map((f) => f.error).join('; ')}`);
  return results.length;
}

export async function csvRows(path: string): Promise<Record<string, string>[]> {
  return parse(await readFile(path, 'utf8'), { columns: true }) as Record<string, string>[];
}

/** Rows without what may differ between two runs of the same job (wall clock). */
export function comparable(rows: Record<string, string>[]): Array<Record<string, string>> {
  return rows.map(({ timestamp: _t, samples_per_sec: _s, ...rest }) => rest);
}

export function assertStepsOnceInOrder(rows: Record<string, string>[]): void {
  const steps = rows.map((r) => Number(r.step));
  for (let i = 1; i < steps.length; i++) {
    if (!(steps[i]! > steps[i - 1]!)) throw new Error(`metrics.csv: step ${steps[i]} follows ${steps[i - 1]}`);
  }
}

export { latestWeightsHash } from '../packages/plugin-checkpoint/test/helpers.js';

/** Temporary files and folders an interrupted write left, in the run folder and its checkpoints folder. */
export async function leftovers(runDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of [runDir, join(runDir, 'checkpoints')]) {
    if (!existsSync(dir)) continue;
    found.push(...(await readdir(dir)).filter((n) => n.includes('.tmp-')).map((n) => join(dir, n)));
  }
  return found;
}
