import { syncTracker, UserError } from '@poke/core';
import type { Logger } from '@poke/core';
import { findApiKey } from './auth.js';
import { Delivery } from './delivery.js';
import type { DeliveryStats } from './delivery.js';
import { WANDB_FILES } from './spool.js';
import type { RunFile } from './spool.js';

export interface SyncResult {
  baseUrl: string;
  entity: string | undefined;
  project: string;
  runId: string;
  delivered: DeliveryStats;
  /** Entries still in the spool, undelivered; 0 when the server has everything. */
  pending: number;
  pendingRows: number;
  error: string | undefined;
}

/** `poke wandb sync`: send what a run's spool holds beyond state.json (see syncTracker), with the API key of the run's server. */
export async function syncRun(runDir: string, options: { logger: Logger; timeoutMs?: number; requestTimeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<SyncResult> {
  const apiKey = (run: RunFile) => {
    const key = findApiKey(run.baseUrl, options.env ?? process.env);
    if (!key) throw new UserError(`no W&B API key for ${run.baseUrl}`, 'set WANDB_API_KEY or add the key to ~/.netrc (`wandb login`)');
    return key.key;
  };
  const { run, delivery, result } = await syncTracker(
    runDir,
    {
      files: WANDB_FILES,
      title: 'W&B',
      packageName: '@poke/plugin-wandb',
      check: (run) => void apiKey(run),
      open: (dir, spool, run, label) => Delivery.open(dir, spool, run, apiKey(run), options.logger, { flushIntervalMs: 0, label, requestTimeoutMs: options.requestTimeoutMs }),
    },
    options.timeoutMs,
  );
  return {
    baseUrl: run.baseUrl,
    entity: delivery.run.entity,
    project: run.project,
    runId: run.id,
    delivered: delivery.stats,
    pending: result.pendingEntries,
    pendingRows: result.pendingRecords,
    error: result.pendingEntries > 0 ? result.lastError : undefined,
  };
}
