import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { lockRunDir } from '../run/lock.js';
import type { Spool } from './spool.js';
import type { SpoolProgress } from './progress.js';
import type { TrackerFiles } from './files.js';
import type { DrainResult } from './delivery.js';

/** What `poke <id> sync` needs of a tracker. */
export interface TrackerSyncDefinition<E, R, P extends SpoolProgress, D extends { drain(timeoutMs: number): Promise<DrainResult> }> {
  files: TrackerFiles<E, R, P>;
  /** The service as messages name it, `W&B`. */
  title: string;
  /** The plugin's package, named when a run folder has no spool. */
  packageName: string;
  /** Refuse before anything in the run folder is touched (no credentials for the run's server): throw a UserError. */
  check?(run: R): void;
  /** A sender for the spool, opened while the run folder is locked; `label` prefixes its messages. */
  open(dir: string, spool: Spool<E>, run: R, label: string): Promise<D>;
}

/**
 * Send what a run's spool holds beyond the saved progress (`poke <id> sync`).
 * Takes the run folder's lock, so it never races a training process. Running
 * it again sends nothing twice: the progress and the server say what is there.
 */
export async function syncTracker<E, R, P extends SpoolProgress, D extends { drain(timeoutMs: number): Promise<DrainResult> }>(
  runDir: string,
  definition: TrackerSyncDefinition<E, R, P, D>,
  timeoutMs = 60_000,
): Promise<{ run: R; delivery: D; result: DrainResult }> {
  const { files } = definition;
  const dir = files.dir(runDir);
  const run = await files.readRunFile(dir);
  if (!run || !existsSync(join(dir, files.names.spool))) {
    throw new UserError(
      `${runDir} has no ${definition.title} spool (${join(dir, files.names.run)} or ${join(dir, files.names.spool)} is missing)`,
      `was it trained with ${definition.packageName}?`,
    );
  }
  definition.check?.(run);
  const release = lockRunDir(runDir);
  try {
    const spool = new files.Spool(dir);
    try {
      const delivery = await definition.open(dir, spool, run, `${files.names.id} sync`);
      return { run, delivery, result: await delivery.drain(timeoutMs) };
    } finally {
      spool.close();
    }
  } finally {
    release();
  }
}
