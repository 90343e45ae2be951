import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@poke/core';
import type { Bucket } from './remote.js';
import type { RunLayout } from './layout.js';
import { parseMarker } from './marker.js';
import { CorruptObjectError } from './errors.js';

export interface PullReport {
  /** Checkpoints brought in, newest first. */
  readonly checkpoints: string[];
  /** Remote checkpoints refused, with why. */
  readonly refused: Array<{ id: string; why: string }>;
}

/**
 * Bring a run from the server into an empty `runDir`: every committed checkpoint
 * whose files match its marker's sha256 (a refused one is left out, so the
 * resume falls back to an older one), then config.json and the CSV files, and
 * run.json last: a crash half-way leaves no run.json, and the next start pulls
 * again. Undefined when the server has no such run.
 */
export async function pullRun(bucket: Bucket, layout: RunLayout, runDir: string, logger: Logger): Promise<PullReport | undefined> {
  const objects = await bucket.list(`${layout.root}/`);
  if (!objects.some((o) => o.key === layout.file('run.json'))) return undefined;
  const checkpointsDir = join(runDir, 'checkpoints');
  await mkdir(checkpointsDir, { recursive: true });
  const ids = objects.map((o) => layout.markerId(o.key)).filter((id): id is string => id !== undefined);
  const report: PullReport = { checkpoints: [], refused: [] };
  for (const id of ids.sort().reverse()) {
    if (existsSync(join(checkpointsDir, id))) {
      report.checkpoints.push(id);
      continue;
    }
    try {
      await pullCheckpoint(bucket, layout, checkpointsDir, id);
      report.checkpoints.push(id);
    } catch (err) {
      if (!(err instanceof CorruptObjectError) && !(err instanceof SyntaxError) && (err as Error).name !== 'UserError') throw err;
      report.refused.push({ id, why: (err as Error).message });
      logger.warn(`storage: remote checkpoint ${id} refused: ${(err as Error).message}`);
    }
  }
  const files = objects.filter((o) => o.key.startsWith(`${layout.root}/`) && !o.key.slice(layout.root.length + 1).includes('/'));
  const names = files.map((o) => o.key.slice(layout.root.length + 1)).filter((n) => n !== 'run.json');
  for (const name of [...names, 'run.json']) await bucket.getFile(layout.file(name), join(runDir, name));
  return report;
}

/** One checkpoint into a temporary folder, checked file by file, renamed into place when whole. */
async function pullCheckpoint(bucket: Bucket, layout: RunLayout, checkpointsDir: string, id: string): Promise<void> {
  const text = await bucket.getText(layout.marker(id));
  if (text === undefined) throw new CorruptObjectError(`its commit marker vanished while reading`);
  const marker = parseMarker(text, layout.marker(id));
  // The checkpoint manager removes `.tmp-` folders a crash leaves behind.
  const temp = join(checkpointsDir, `.tmp-${id}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp);
  try {
    for (const [name, digest] of Object.entries(marker.files)) await bucket.getFile(layout.checkpointFile(id, name), join(temp, name), digest);
    await rename(temp, join(checkpointsDir, id));
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * The run files (run.json, config.json, CSV files; no checkpoints) of every run
 * under `prefix` into `outDir/<run>/`, run.json last in each: what `poke compare`
 * reads. Returns the runs brought.
 */
export async function pullRunFiles(bucket: Bucket, prefix: string, outDir: string): Promise<string[]> {
  const from = prefix ? `${prefix}/` : '';
  const byRun = new Map<string, string[]>();
  for (const o of await bucket.list(from)) {
    const [run, name, ...deeper] = o.key.slice(from.length).split('/');
    if (!run || !name || deeper.length || !(name === 'run.json' || name === 'config.json' || name.endsWith('.csv'))) continue;
    byRun.set(run, [...(byRun.get(run) ?? []), name]);
  }
  const runs = [...byRun].filter(([, names]) => names.includes('run.json')).map(([run]) => run).sort();
  for (const run of runs) {
    await mkdir(join(outDir, run), { recursive: true });
    const names = byRun.get(run)!.sort((a, b) => Number(a === 'run.json') - Number(b === 'run.json'));
    for (const name of names) await bucket.getFile(`${from}${run}/${name}`, join(outDir, run, name));
  }
  return runs;
}
