import { UserError } from '@poke/core';

/** The names a new plugin package goes by, all derived from what was given to `--plugin`. */
export interface PluginNames {
  /** npm package name: `poke-plugin-slack`, or `@acme/poke-plugin-slack`; the CLI finds it by its short name. */
  readonly pkg: string;
  /** Folder it is written to, in the current folder. */
  readonly folder: string;
  /** `PLUGIN_NAME`, which names every tap: `slack`, or `acme:slack` for a scoped package. */
  readonly plugin: string;
  /** The factory's name: `slack`, `bestTracker`. */
  readonly factory: string;
}

const NAME = /^(?:@([a-z0-9][a-z0-9._-]*)\/)?([a-z0-9][a-z0-9._-]*)$/;

/** `slack`, `poke-plugin-slack`, `@acme/slack` or `@acme/poke-plugin-slack`. */
export function pluginNames(given: string): PluginNames {
  const match = NAME.exec(given);
  if (!match) {
    throw new UserError(
      `--plugin "${given}": not a package name`,
      'use lower-case letters, digits, "-", "." and "_", optionally scoped: best-tracker or @acme/best-tracker',
    );
  }
  const [, scope, rest] = match;
  const short = rest!.replace(/^poke-plugin-/, '');
  if (!short) throw new UserError(`--plugin "${given}": the name after poke-plugin- is empty`);
  const folder = `poke-plugin-${short}`;
  const words = short.split(/[^a-z0-9]+/).filter(Boolean);
  const camel = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  return {
    pkg: scope ? `@${scope}/${folder}` : folder,
    folder,
    plugin: scope ? `${scope}:${short}` : short,
    factory: /^[a-z]/.test(camel) ? camel : `plugin${camel}`,
  };
}
