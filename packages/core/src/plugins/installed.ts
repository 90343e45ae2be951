import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Short names (`csv`, `mlflow`) of the plugin packages installed where
 * `locatePlugin` looks: `@poke/plugin-*` and `poke-plugin-*` in every
 * node_modules from `baseDir` and from the core itself up to the root.
 * Used only to suggest a name when one is not found, so errors are ignored.
 */
export function installedPluginNames(baseDir: string): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>();
  for (const start of [baseDir, dirname(fileURLToPath(import.meta.url))]) {
    for (let dir = start; !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir);
      for (const name of list(join(dir, 'node_modules', '@poke'))) if (name.startsWith('plugin-')) names.add(name.slice('plugin-'.length));
      for (const name of list(join(dir, 'node_modules'))) if (name.startsWith('poke-plugin-')) names.add(name.slice('poke-plugin-'.length));
    }
  }
  return names;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
