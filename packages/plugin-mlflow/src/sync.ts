import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, lockRunDir } from '@poke/core';
import type { Logger } from '@poke/core';
import { publicUri } from './client.js';
import { Delivery } from './delivery.js';
import type { DeliveryStats } from './delivery.js';
import { Spool, mlflowDir, readRunFile, writeRunFile, writeDelivered, SPOOL_FILE } from './spool.js';
import type { RunFile } from './spool.js';

export interface SyncResult {
  trackingUri: string;
  experiment: string;
  experimentId: string | undefined;
  runId: string | undefined;
  delivered: DeliveryStats;
  /** Entries still in the spool, undelivered; 0 when everything is on the server. */
  pending: number;
  pendingRecords: number;
  error: string | undefined;
}

/**
 * Deliver what a run's spool holds beyond delivered.json (`poke mlflow sync`).
 * Takes the run folder's lock, so it never races a training process. Running it
 * again sends nothing twice: delivered.json and the server's latest step say what is there.
 */
export async function syncRun(
  runDir: string,
  options: { logger: Logger; timeoutMs?: number; trackingUri?: string; requestTimeoutMs?: number },
): Promise<SyncResult> {
  const dir = mlflowDir(runDir);
  let run = await readRunFile(dir);
  if (!run || !existsSync(join(dir, SPOOL_FILE))) {
    throw new UserError(`${runDir} has no MLflow state (${join(dir, 'run.json')} or ${join(dir, SPOOL_FILE)} is missing)`, 'was it trained with @poke/plugin-mlflow?');
  }
  const release = lockRunDir(runDir);
  try {
    const uri = options.trackingUri ?? run.trackingUri;
    const plain = publicUri(uri);
    if (plain !== run.trackingUri) {
      // Another server: a new run there, and the whole spool goes to it.
      options.logger.warn(`mlflow sync: sending to ${plain} instead of ${run.trackingUri}: a new MLflow run, with the whole spool`);
      run = { ...run, trackingUri: plain } as RunFile;
      delete run.runId;
      delete run.experimentId;
      delete run.artifactUri;
      await writeRunFile(dir, run);
      await writeDelivered(dir, { offset: 0, step: -1 });
    }
    const spool = new Spool(dir);
    try {
      const delivery = await Delivery.open(dir, spool, run, options.logger, {
        flushIntervalMs: 0,
        label: 'mlflow sync',
        trackingUri: uri,
        ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      });
      const result = await delivery.drain(options.timeoutMs ?? 60_000);
      return {
        trackingUri: plain,
        experiment: delivery.run.experiment,
        experimentId: delivery.run.experimentId,
        runId: delivery.run.runId,
        delivered: delivery.stats,
        pending: result.pendingEntries,
        pendingRecords: result.pendingRecords,
        error: result.pendingEntries > 0 ? result.lastError : undefined,
      };
    } finally {
      spool.close();
    }
  } finally {
    release();
  }
}
