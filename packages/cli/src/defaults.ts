import { locatePlugin } from '@poke/core';
import type { UserConfig } from '@poke/core';
import { CLI_DIR } from './extensions.js';

/** Built-in plugins the default run uses when they are installed: a run that can be resumed and compared. */
export const DEFAULT_PLUGINS = ['@poke/plugin-checkpoint', '@poke/plugin-retention', '@poke/plugin-csv'] as const;

function installed(name: string): boolean {
  try {
    locatePlugin(name, CLI_DIR);
    return true;
  } catch {
    return false;
  }
}

/** What `poke train` runs when there is no config file at all. */
export function builtInDefault(): UserConfig {
  return { plugins: DEFAULT_PLUGINS.filter(installed) };
}
