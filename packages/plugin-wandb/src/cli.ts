import type { Command } from 'commander';
import { registerSyncCommand } from '@poke/core';
import type { SyncCommandContext } from '@poke/core';
import { syncRun } from './sync.js';

/** `poke wandb sync RUN_DIR [--json]`: contributed to the poke CLI through package.json `poke.commands`. */
export default function registerWandb(program: Command, context: SyncCommandContext): void {
  registerSyncCommand(program, context, {
    id: 'wandb',
    description: 'Weights & Biases: upload what a run spooled offline or while the server was away',
    syncDescription: "send a run's undelivered W&B records (runs/<run>/wandb/offline.jsonl); running it twice sends nothing twice",
    sync: (runDir, _flags: object, { logger, timeoutMs }) => syncRun(runDir, { logger, timeoutMs }),
    report({ entity, project, runId, baseUrl, delivered: d }) {
      return (
        `run ${entity ?? '?'}/${project}/${runId} at ${baseUrl}: sent ${d.rows} history rows, ${d.upserts} run updates, ` +
        `${d.summaries} summaries, ${d.finishes} exit states; ${d.skipped} rows were already there`
      );
    },
  });
}
