/**
 * A plugin as a config holds it. The config's types cannot name `PokePlugin`,
 * whose `apply` takes the Trainer, whose types need the config's: a plugin
 * here is anything with a name and an `apply`, which every PokePlugin is.
 */
export interface ConfiguredPlugin {
  readonly name: string;
  apply(trainer: never): void;
}

/** How a plugin may be named in a config: an instance, a module name or path, or [module, options]. */
export type PluginSpec = ConfiguredPlugin | string | readonly [string, unknown?];
