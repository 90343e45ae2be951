import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, lockRunDir } from '@poke/core';
import type { Logger } from '@poke/core';
import { findApiKey } from './auth.js';
import { Delivery } from './delivery.js';
import type { DeliveryStats } from './delivery.js';
import { Spool, wandbDir, readRunFile, SPOOL_FILE } from './spool.js';

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

/**
 * Send what a run's spool holds beyond state.json (`poke wandb sync`). Takes the
 * run folder's lock, so it never races a training process. Running it again
 * sends nothing twice: state.json says how far the server has the spool.
 */
export async function syncRun(runDir: string, options: { logger: Logger; timeoutMs?: number; requestTimeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<SyncResult> {
  const dir = wandbDir(runDir);
  const run = await readRunFile(dir);
  if (!run || !existsSync(join(dir, SPOOL_FILE))) {
    throw new UserError(`${runDir} has no W&B spool (no ${join(dir, 'run.json')} and ${SPOOL_FILE})`, 'was it trained with @poke/plugin-wandb?');
  }
  const key = findApiKey(run.baseUrl, options.env ?? process.env);
  if (!key) throw new UserError(`no W&B API key for ${run.baseUrl}`, 'set WANDB_API_KEY or add the key to ~/.netrc (`wandb login`)');
  const release = lockRunDir(runDir);
  try {
    const spool = new Spool(dir);
    try {
      const delivery = await Delivery.open(dir, spool, run, key.key, options.logger, {
        flushIntervalMs: 0,
        label: 'wandb sync',
        ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      });
      const result = await delivery.drain(options.timeoutMs ?? 60_000);
      return {
        baseUrl: run.baseUrl,
        entity: delivery.run.entity,
        project: run.project,
        runId: run.id,
        delivered: delivery.stats,
        pending: result.pendingEntries,
        pendingRows: result.pendingRows,
        error: result.pendingEntries > 0 ? result.lastError : undefined,
      };
    } finally {
      spool.close();
    }
  } finally {
    release();
  }
}
