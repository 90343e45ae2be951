import { validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer } from '@poke/core';
import { showdownSource } from './source.js';

export const PLUGIN_NAME = 'poke:showdown';

export const showdownPluginSchema = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Adds the `showdown` data source: `data: { source: 'showdown', battles: 200 }`. */
export function showdown(options?: Record<string, never>): PokePlugin {
  validatePluginOptions(PLUGIN_NAME, showdownPluginSchema, options ?? {});
  return {
    name: PLUGIN_NAME,
    apply(trainer: Trainer) {
      trainer.registerDataSource(showdownSource);
    },
  };
}
