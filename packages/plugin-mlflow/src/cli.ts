import type { Command } from 'commander';
import { registerSyncCommand, UserError } from '@poke/core';
import { redactUrl } from '@poke/core/internal';
import type { SyncCommandContext } from '@poke/core';
import { syncRun } from './sync.js';

/** `poke mlflow sync RUN_DIR [--json]`: contributed to the poke CLI through package.json `poke.commands`. */
export default function registerMlflow(program: Command, context: SyncCommandContext): void {
  registerSyncCommand(program, context, {
    id: 'mlflow',
    description: 'MLflow tracking: deliver what a run spooled while the server was away',
    syncDescription: "send a run's undelivered MLflow records (runs/<run>/mlflow/spool.jsonl); running it twice sends nothing twice",
    options: [['--tracking-uri <uri>', 'send to this server instead of the one the run used (creates a new MLflow run there)']],
    sync(runDir, { trackingUri }: { trackingUri?: string }, { logger, timeoutMs }) {
      if (trackingUri && !/^https?:\/\/\S+$/.test(trackingUri)) throw new UserError(`--tracking-uri must be an http(s) URI, got "${redactUrl(trackingUri)}"`);
      return syncRun(runDir, { logger, timeoutMs, ...(trackingUri ? { trackingUri } : {}) });
    },
    report({ runId, trackingUri, delivered: d }) {
      return (
        `run ${runId ?? '(not created)'} at ${trackingUri}: sent ${d.records} records (${d.metrics} values), ${d.params} params, ` +
        `${d.tags} tags, ${d.statuses} status updates, ${d.artifactFiles} artifact files; ${d.skipped} records were already there`
      );
    },
  });
}
