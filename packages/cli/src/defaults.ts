import { locatePlugin } from '@poke/core/internal';
import type { UserConfig } from '@poke/core';
import { CLI_DIR } from './extensions.js';

/** Built-in plugins the default run uses when they are installed: a run that can be resumed and compared. */
export const DEFAULT_PLUGINS = ['@poke/plugin-checkpoint', '@poke/plugin-retention', '@poke/plugin-csv'] as const;

/** Battle data when @poke/showdown is installed; small enough to generate in well under a minute on 2 cores. */
export const DEFAULT_BATTLES = 300;

function installed(name: string): boolean {
  try {
    locatePlugin(name, CLI_DIR);
    return true;
  } catch {
    return false;
  }
}

/**
 * What `poke train` runs when there is no config file at all: expert battle
 * demonstrations (generated once, then cached under runs/.cache) when
 * @poke/showdown is installed, synthetic data otherwise.
 */
export function builtInDefault(): { user: UserConfig; data: string } {
  const plugins: string[] = DEFAULT_PLUGINS.filter(installed);
  if (installed('@poke/showdown')) {
    return {
      user: { data: { source: 'showdown', battles: DEFAULT_BATTLES }, plugins: ['@poke/showdown', ...plugins] },
      data: `${DEFAULT_BATTLES} expert battles from @poke/showdown, cached after the first run`,
    };
  }
  return { user: { plugins }, data: 'synthetic data' };
}
