import { defineOptions, validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer } from '@poke/core';
import { showdownSource } from './source.js';

export const PLUGIN_NAME = 'poke:showdown';

/** No options: the data source's keys live in the config's `data` section. */
export const showdownPluginSchema = defineOptions({});

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
