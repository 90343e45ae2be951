import { dirname } from 'node:path';
import { validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer } from '@poke/core';
import { compareRuns } from './compare.js';
import { fmt } from './table.js';

export const PLUGIN_NAME = 'poke:compare';

export interface ComparePluginOptions {
  /** @default "val_loss" */
  metric?: string;
  mode?: 'min' | 'max';
}

export const comparePluginSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    metric: { type: 'string', minLength: 1, default: 'val_loss', description: 'metric that ranks the runs' },
    mode: { enum: ['min', 'max'], description: 'min: lower is better; max: higher is better' },
  },
} as const;

/** At `done`, says where this run ranks among the runs beside it in the same runs folder. */
export function compare(options?: ComparePluginOptions): PokePlugin {
  const resolved = validatePluginOptions<ComparePluginOptions & { metric: string }>(PLUGIN_NAME, comparePluginSchema, options);
  return {
    name: PLUGIN_NAME,
    apply(trainer: Trainer) {
      trainer.hooks.done.tapPromise({ name: PLUGIN_NAME, stage: 100 }, async ({ runDir, runName }) => {
        if (!runDir) return;
        const rows = await compareRuns([dirname(runDir)], { metric: resolved.metric, ...(resolved.mode ? { mode: resolved.mode } : {}) });
        const ranked = rows.filter((r) => r.rank !== null);
        const self = rows.find((r) => r.name === runName);
        if (!self || self.rank === null) {
          trainer.logger.info(`compare: this run has no ${resolved.metric} to rank (${self?.reason ?? 'not found'})`);
          return;
        }
        const best = ranked[0]!;
        const lead = self.rank === 1 ? 'best so far' : `best: ${best.name} ${fmt(best.value)}`;
        trainer.logger.info(`compare: this run ranks ${self.rank} of ${ranked.length} by ${self.metric} (${self.mode}) with ${fmt(self.value)}; ${lead}`);
      });
    },
  };
}
