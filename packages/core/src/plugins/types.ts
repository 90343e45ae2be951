import type { Trainer } from '../trainer.js';

/**
 * A plugin: what a factory such as `csv({ path })` returns.
 * `apply` only taps hooks; work happens when the hooks fire.
 */
export interface PokePlugin {
  /** Namespaced name, e.g. `poke:csv`; every tap of the plugin uses it. */
  readonly name: string;
  apply(trainer: Trainer): void;
  /** Key under which the checkpoint stores this plugin's state (Lightning's `state_key`). */
  readonly stateKey?: string;
  /** JSON-serialisable state to save with a checkpoint. */
  state?(): unknown;
  /** Called on resume with what `state()` returned when the checkpoint was saved. */
  restore?(state: unknown): void;
}

/** What a plugin module's default export is. */
export type PluginFactory<Options = unknown> = (options?: Options) => PokePlugin;

export type { PluginSpec } from './spec.js';
