import { syncTracker } from '@poke/core';
import type { Logger } from '@poke/core';
import { publicUri } from './client.js';
import { Delivery } from './delivery.js';
import type { DeliveryStats } from './delivery.js';
import { MLFLOW_FILES, writeRunFile, writeDelivered, NOTHING_DELIVERED } from './spool.js';
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
 * `poke mlflow sync`: deliver what a run's spool holds beyond delivered.json (see
 * syncTracker); with `trackingUri`, to another server, as a new run there.
 */
export async function syncRun(
  runDir: string,
  options: { logger: Logger; timeoutMs?: number; trackingUri?: string; requestTimeoutMs?: number },
): Promise<SyncResult> {
  let plain = '';
  const { delivery, result } = await syncTracker(
    runDir,
    {
      files: MLFLOW_FILES,
      title: 'MLflow',
      packageName: '@poke/plugin-mlflow',
      async open(dir, spool, recorded, label) {
        const uri = options.trackingUri ?? recorded.trackingUri;
        plain = publicUri(uri);
        const run = plain === recorded.trackingUri ? recorded : await moveTo(dir, recorded, plain, options.logger);
        return Delivery.open(dir, spool, run, options.logger, { flushIntervalMs: 0, label, trackingUri: uri, requestTimeoutMs: options.requestTimeoutMs });
      },
    },
    options.timeoutMs,
  );
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
}

/** Another server: a new run there, and the whole spool goes to it. */
async function moveTo(dir: string, recorded: RunFile, trackingUri: string, logger: Logger): Promise<RunFile> {
  logger.warn(`mlflow sync: sending to ${trackingUri} instead of ${recorded.trackingUri}: a new MLflow run, with the whole spool`);
  const { runId: _runId, experimentId: _experimentId, artifactUri: _artifactUri, ...kept } = recorded;
  const run: RunFile = { ...kept, trackingUri };
  await writeRunFile(dir, run);
  await writeDelivered(dir, NOTHING_DELIVERED);
  return run;
}
