import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, isUserError } from '../errors.js';
import { enableTypeScriptImports, shareHostPackages } from './module-hooks.js';
import { pluginEntry } from './package-entry.js';
import { closest } from '../util/did-you-mean.js';
import { installedPluginNames } from './installed.js';
import type { PokePlugin, PluginSpec } from './types.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

function isPath(name: string): boolean {
  return name.startsWith('.') || isAbsolute(name) || /\.(m|c)?[jt]s$/.test(name);
}

/**
 * Package names tried for `name`: `csv` → @poke/plugin-csv, poke-plugin-csv, csv,
 * and last @poke/csv, so that `showdown` (as the start-up line names it) finds @poke/showdown.
 */
export function candidatePackages(name: string): string[] {
  if (name.startsWith('@') || name.includes('/')) return [name];
  return [`@poke/plugin-${name}`, `poke-plugin-${name}`, name, `@poke/${name}`];
}

/** Where a plugin named `name` lives, or a UserError saying where poke looked. */
export function locatePlugin(name: string, baseDir: string): string {
  if (isPath(name)) {
    const path = resolve(baseDir, name);
    if (!existsSync(path)) throw new UserError(`plugin "${name}" not found: no file at ${path}`);
    const entry = pluginEntry(path, name);
    if (!existsSync(entry)) throw new UserError(`plugin "${name}" not found: ${path}/package.json names ${entry}, which does not exist`, 'build the plugin first, or point its package.json at its source');
    return entry;
  }
  const roots = [join(baseDir, 'package.json'), import.meta.url];
  for (const candidate of candidatePackages(name)) {
    for (const root of roots) {
      try {
        return createRequire(root).resolve(candidate);
      } catch {
        // try the next place
      }
    }
  }
  const suggestion = closest(name, installedPluginNames(baseDir));
  throw new UserError(
    `plugin "${name}" not found: looked for ${candidatePackages(name).join(', ')} in node_modules from ${baseDir}`,
    suggestion
      ? `did you mean "${suggestion}"?`
      : `install it (npm install ${candidatePackages(name)[0]}) or give a path such as ./plugins/${name}.ts`,
  );
}

async function importPlugin(path: string, label: string): Promise<unknown> {
  try {
    shareHostPackages();
    if (TS_EXTENSIONS.has(extname(path))) await enableTypeScriptImports();
    return await import(pathToFileURL(path).href);
  } catch (err) {
    throw new UserError(`plugin "${label}" failed to load from ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function factoryOf(mod: unknown): unknown {
  let m = mod as { default?: unknown } | undefined;
  // A CommonJS or transpiled module may wrap the default export once more.
  for (let i = 0; i < 2 && m && typeof m === 'object' && 'default' in m; i++) m = m.default as typeof m;
  return m;
}

export function assertPlugin(value: unknown, label: string): PokePlugin {
  const p = value as Partial<PokePlugin> | undefined;
  if (!p || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.apply !== 'function') {
    throw new UserError(`plugin "${label}" is not a plugin: expected an object { name: string, apply(trainer) }`);
  }
  return p as PokePlugin;
}

/** Turn one config entry into a plugin instance. */
export async function resolvePlugin(spec: PluginSpec, baseDir: string): Promise<PokePlugin> {
  if (typeof spec === 'object' && !Array.isArray(spec)) return assertPlugin(spec, (spec as { name?: string }).name ?? '?');
  const [name, options] = typeof spec === 'string' ? [spec, undefined] : (spec as readonly [string, unknown?]);
  if (typeof name !== 'string') throw new UserError(`plugins: expected a name, a path or [name, options], got ${JSON.stringify(spec)}`);
  const factory = factoryOf(await importPlugin(locatePlugin(name, baseDir), name));
  if (typeof factory !== 'function') {
    throw new UserError(`plugin "${name}": its default export is not a function; a plugin module exports (options) => ({ name, apply })`);
  }
  let plugin: unknown;
  try {
    plugin = factory(options);
  } catch (err) {
    if (isUserError(err)) throw err;
    throw new UserError(`plugin "${name}" threw while creating it: ${(err as Error).message}`);
  }
  return assertPlugin(plugin, name);
}

export async function resolvePlugins(specs: readonly PluginSpec[], baseDir: string): Promise<PokePlugin[]> {
  const plugins: PokePlugin[] = [];
  for (const spec of specs) plugins.push(await resolvePlugin(spec, baseDir));
  return plugins;
}

/** Whether `plugin` (or its spec) answers to `name` as given to `--no-plugin`: `csv`, `poke:csv` or `@poke/plugin-csv`. */
export function pluginMatches(name: string, spec: PluginSpec, plugin?: PokePlugin): boolean {
  const specName = typeof spec === 'string' ? spec : Array.isArray(spec) ? (spec[0] as string) : undefined;
  const names = new Set<string>();
  if (specName) names.add(specName);
  if (plugin) names.add(plugin.name);
  const wanted = new Set([name, `poke:${name}`, ...candidatePackages(name)]);
  for (const n of names) if (wanted.has(n)) return true;
  return false;
}
