import { UserError } from '../errors.js';
import { validateWithSchema } from './validate.js';
import { applySet } from './set.js';
import { coreConfigSchema } from './schema.js';
import type { ResolvedConfig, UserConfig } from './schema.js';
import type { LoadedConfig } from './load.js';
import type { PokePlugin, PluginSpec } from '../plugins/types.js';
import { resolvePlugins, pluginMatches } from '../plugins/resolve.js';

export interface Overrides {
  /** `key=value` assignments from `--set`. */
  readonly set?: readonly string[];
  /** Extra plugins (`--plugin`), resolved from the current directory. */
  readonly addPlugins?: readonly PluginSpec[];
  /** Plugins to leave out (`--no-plugin`). */
  readonly removePlugins?: readonly string[];
  readonly runName?: string;
  /** How the user typed an assignment of `set` when it was not `--set` (`train.backend="cpu"` → `--backend cpu`), for errors. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Folder `addPlugins` paths are relative to. */
  readonly cwd?: string;
}

/** Copy plain data; plugin instances (class instances, objects with functions) are kept by reference. */
function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneData);
  if (value === null || typeof value !== 'object') return value;
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.values(value).some((v) => typeof v === 'function')) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneData(v)]));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) if (inner && typeof inner === 'object' && !('apply' in inner)) deepFreeze(inner);
  }
  return value;
}

/**
 * The one resolver: user config + overrides → a validated, defaulted, frozen
 * config and the plugin instances it names.
 */
export async function resolveConfig(
  loaded: LoadedConfig,
  overrides: Overrides = {},
): Promise<{ config: ResolvedConfig; plugins: PokePlugin[] }> {
  const source = loaded.file ?? 'config';
  const user = cloneData(loaded.user) as UserConfig & Record<string, unknown>;
  for (const assignment of overrides.set ?? []) applySet(user, assignment);
  if (overrides.runName !== undefined) user.runName = overrides.runName;

  const pluginSpecs = user.plugins ?? [];
  if (!Array.isArray(pluginSpecs)) throw new UserError(`${source}: plugins must be array, got ${typeof pluginSpecs}`);
  const checked = { ...user, plugins: [] };
  validateWithSchema(coreConfigSchema, checked, (path) => blame(path, overrides) ?? source);

  const removed = overrides.removePlugins ?? [];
  const wanted = (spec: PluginSpec, plugin?: PokePlugin) => !removed.some((name) => pluginMatches(name, spec, plugin));
  // --no-plugin removes what the config enables (before resolving, so a removed plugin need not be
  // installed, and after, by its runtime name); --plugin adds explicitly, so `--no-plugin x --plugin x=…`
  // swaps a plugin's options.
  const fromConfig = pluginSpecs.filter((spec) => wanted(spec));
  const fromCli = overrides.addPlugins ?? [];
  const resolvedByConfig = zip(fromConfig, await resolvePlugins(fromConfig, loaded.baseDir));
  const resolved = [
    ...resolvedByConfig.filter(([spec, plugin]) => wanted(spec, plugin)),
    ...zip(fromCli, await resolvePlugins(fromCli, overrides.cwd ?? loaded.baseDir)),
  ];
  // A --no-plugin that names nothing the config enables is a typo, not a no-op.
  for (const name of removed) {
    const matches = pluginSpecs.some((spec) => pluginMatches(name, spec, typeof spec === 'object' && !Array.isArray(spec) ? (spec as PokePlugin) : undefined));
    const byRuntimeName = resolvedByConfig.some(([spec, plugin]) => pluginMatches(name, spec, plugin));
    if (!matches && !byRuntimeName) {
      const enabled = pluginSpecs.map((spec) => (typeof spec === 'string' ? spec : Array.isArray(spec) ? (spec[0] as string) : (spec as PokePlugin).name));
      throw new UserError(`--no-plugin ${name}: no plugin in the config answers to that name; enabled: ${enabled.join(', ') || 'none'}`, 'give its package, short or plugin name (e.g. csv, @poke/plugin-csv, poke:csv)');
    }
  }
  const plugins = resolved.map(([, plugin]) => plugin);
  const specs = resolved.map(([spec]) => spec);
  const config = deepFreeze({
    ...(checked as unknown as Omit<ResolvedConfig, 'configFile' | 'plugins' | 'runName'>),
    runName: checked.runName,
    configFile: loaded.file,
    plugins: specs,
  }) as ResolvedConfig;
  return { config, plugins };
}

/**
 * The command-line flag that set the value at `path` (the last one that did), so
 * a mistake there is not blamed on the config file; undefined when the file did.
 */
function blame(path: string, overrides: Overrides): string | undefined {
  if (path === 'runName' && overrides.runName !== undefined) return `--run-name ${overrides.runName}`;
  const covers = (key: string) => path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`);
  const assignment = [...(overrides.set ?? [])].reverse().find((a) => covers(a.slice(0, a.indexOf('=')).trim()));
  if (assignment === undefined) return undefined;
  return overrides.flags?.[assignment] ?? `--set ${assignment}`;
}

function zip<A, B>(a: readonly A[], b: readonly B[]): Array<[A, B]> {
  return a.map((x, i) => [x, b[i]!]);
}
