import { dirname, resolve } from 'node:path';
import { Stage, validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer } from '@poke/core';
import { compareRuns } from './compare.js';
import { comparePluginSchema } from './schema.js';
import type { ComparePluginOptions } from './schema.js';
import { fmt, printable } from './table.js';

export const PLUGIN_NAME = 'poke:compare';

export { comparePluginSchema };
export type { ComparePluginOptions };

/**
 * At `done`, says where this run ranks among the runs beside it in the same
 * runs folder. Taps `done` at Stage.LAST, after the checkpoint plugin's
 * final save and the loggers' flushes. Silent when the run failed.
 */
export function compare(options?: ComparePluginOptions): PokePlugin {
  const resolved = validatePluginOptions(PLUGIN_NAME, comparePluginSchema, options);
  return {
    name: PLUGIN_NAME,
    apply(trainer: Trainer) {
      trainer.hooks.done.tapPromise({ name: PLUGIN_NAME, stage: Stage.LAST }, async ({ runDir, status }) => {
        if (!runDir || status === 'failed') return;
        const self = resolve(runDir);
        const rows = await compareRuns([dirname(self)], { metric: resolved.metric, ...(resolved.mode ? { mode: resolved.mode } : {}) });
        const ranked = rows.filter((r) => r.rank !== null);
        const row = rows.find((r) => r.path === self);
        const metric = printable(resolved.metric);
        if (!row || row.rank === null) {
          // Its own run.json still says running at done: that is not the reason here.
          const reason = !row ? 'not found' : row.reason === 'still running' ? 'not in its checkpoints, metrics.csv or eval*.json' : row.reason;
          trainer.logger.info(`compare: this run has no ${metric} to rank (${reason})`);
          return;
        }
        const best = ranked[0]!;
        const lead = row.rank === 1 ? (ranked.length > 1 ? `next: ${printable(ranked[1]!.name)} ${fmt(ranked[1]!.value)}` : 'the only ranked run') : `best: ${printable(best.name)} ${fmt(best.value)}`;
        trainer.logger.info(`compare: this run ranks ${row.rank} of ${ranked.length} by ${metric} (${row.mode}) with ${fmt(row.value)}; ${lead}`);
      });
    },
  };
}
