import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { REDACTED, redactSecrets } from '../util/redact.js';
import { coreConfigSchema } from './schema.js';
import type { UserConfig } from './schema.js';
import type { LoadedConfig } from './load.js';
import type { PluginSpec, PokePlugin } from '../plugins/types.js';
import { validateWithSchema } from './validate.js';
import { applySet } from './set.js';

/**
 * Keys that decide the shape of the weights: a resume that changes one of them
 * could not load the checkpoint, so it is refused before anything is written.
 */
export const SHAPE_KEYS = ['model.hiddenSizes', 'data.source', 'data.features', 'data.actions'] as const;

/** Keys that name the run rather than describe it; never part of a config diff. */
const RUN_KEYS = new Set(['runName', 'runsDir', 'configFile']);

type Json = Record<string, unknown>;

/** A run's config.json, or undefined when it has none (a run from before config.json, or one stopped during start-up). */
export async function readRecordedConfig(runDir: string): Promise<Json | undefined> {
  const text = await readFile(join(runDir, 'config.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  } catch {
    // reported below
  }
  throw new UserError(`${join(runDir, 'config.json')}: not a JSON object`, 'restore it, or resume with --use-current-config');
}

function pluginName(spec: PluginSpec): string {
  if (typeof spec === 'string') return spec;
  if (Array.isArray(spec)) return spec[0] as string;
  return (spec as PokePlugin).name;
}

/** A user config as config.json would record it: core defaults filled in, plugins by name, secrets redacted. */
export function configAsRecorded(user: UserConfig): Json {
  const copy = structuredClone({ ...user, plugins: [] }) as Json;
  validateWithSchema(coreConfigSchema, copy, 'config');
  const plugins = (user.plugins ?? []).map((p) => (typeof p === 'string' ? p : Array.isArray(p) ? [p[0], p[1] ?? {}] : pluginName(p)));
  return redactSecrets({ ...copy, plugins });
}

function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** `key: before → after` for every leaf (arrays whole) that differs; run-naming keys left out. */
export function configDiff(before: Json, after: Json): string[] {
  const a = leaves(before, '', new Map());
  const b = leaves(after, '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => !RUN_KEYS.has(k.split('.')[0]!)).sort();
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return keys.filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))).map((k) => `${k}: ${show(a.get(k))} → ${show(b.get(k))}`);
}

/** The diff restricted to the keys that decide the weights' shape. */
export function shapeDiff(before: Json, after: Json): string[] {
  return configDiff(before, after).filter((line) => SHAPE_KEYS.some((k) => line.startsWith(`${k}:`) || line.startsWith(`${k}.`)));
}

function hasRedaction(value: unknown): boolean {
  return typeof value === 'string' && value.includes(REDACTED);
}

/**
 * Put real values back where config.json holds `[redacted]`: the current
 * config's value at the same place when it has one, otherwise the key is left
 * out so the plugin's default or its environment variable applies. A redacted
 * placeholder is never used as a value. Each replacement is described in `notes`.
 */
function unredact(recorded: unknown, current: unknown, path: string, notes: string[]): unknown {
  if (hasRedaction(recorded)) {
    if (current !== undefined && !hasRedaction(current)) {
      notes.push(`${path} is redacted in config.json: using the current config's value`);
      return current;
    }
    notes.push(`${path} is redacted in config.json and the current config has no value: left out (the default or environment applies)`);
    return undefined;
  }
  if (Array.isArray(recorded)) return recorded.map((v, i) => unredact(v, Array.isArray(current) ? current[i] : undefined, `${path}[${i}]`, notes));
  if (recorded && typeof recorded === 'object') {
    const out: Json = {};
    const cur = current && typeof current === 'object' && !Array.isArray(current) ? (current as Json) : {};
    for (const [key, value] of Object.entries(recorded)) {
      const restored = unredact(value, cur[key], path ? `${path}.${key}` : key, notes);
      if (restored !== undefined) out[key] = restored;
    }
    return out;
  }
  return recorded;
}

/** The run's plugin list, as specs this process can resolve: instances are taken from the current config by name. */
function recordedPlugins(recorded: unknown[], current: readonly PluginSpec[], runDir: string, notes: string[]): PluginSpec[] {
  return recorded.map((entry, i) => {
    const name = typeof entry === 'string' ? entry : Array.isArray(entry) ? entry[0] : undefined;
    if (typeof name !== 'string') throw new UserError(`${join(runDir, 'config.json')}: plugins[${i}] is not a plugin name or [name, options]`);
    const same = current.find((spec) => pluginName(spec) === name);
    if (typeof entry === 'string') {
      // A factory's result (csv({ … })) is recorded by its runtime name: only the config file can rebuild it.
      if (same && typeof same === 'object' && !Array.isArray(same)) return same;
      if (/^[a-z0-9-]+:/i.test(name) && !/^[a-z]:[\\/]/i.test(name)) {
        throw new UserError(
          `resume: the run used plugin ${name}, created in its config file, and the current config does not create it`,
          'put it back in the config, or resume with --use-current-config',
        );
      }
      return entry;
    }
    const currentOptions = Array.isArray(same) ? same[1] : undefined;
    return [name, unredact((entry as unknown[])[1] ?? {}, currentOptions, `plugins[${i}] ${name}`, notes)] as const;
  });
}

export interface ResumeConfig {
  /** The config to resolve with this command line's overrides. */
  readonly loaded: LoadedConfig;
  /** The current config file against the run's config.json (empty when they agree). */
  readonly diff: string[];
  /** Redacted values and where their real value came from. */
  readonly notes: string[];
  /** The run's config.json as recorded, to check the resolved config's shape against. */
  readonly recorded: Json;
}

/**
 * The config a resumed run continues with: its own config.json, not the current
 * config file. Secrets, redacted on disk, come from the current config (or are
 * left to their defaults and environment). The current config's runsDir stays:
 * it is where the run was found.
 */
export function resumeConfig(recorded: Json, current: LoadedConfig, runDir: string, set: readonly string[] = []): ResumeConfig {
  const notes: string[] = [];
  const currentUser = current.user as Json;
  const { plugins, configFile, runName: _name, runsDir: _dir, ...rest } = recorded;
  void _name;
  void _dir;
  const user = unredact(rest, currentUser, '', notes) as Json;
  if (currentUser.runsDir !== undefined) user.runsDir = currentUser.runsDir;
  user.plugins = recordedPlugins(Array.isArray(plugins) ? plugins : [], (current.user.plugins ?? []) as PluginSpec[], runDir, notes);
  // Compared after this command's --set on both sides: the diff is what --use-current-config would change.
  const withSets = (config: Json) => {
    const { configFile: _f, ...rest } = config;
    void _f;
    const copy = structuredClone({ ...rest, plugins: [] }) as Json;
    for (const assignment of set) applySet(copy, assignment);
    return { ...copy, plugins: config.plugins };
  };
  const diff = configDiff(configAsRecorded(withSets(recorded) as UserConfig), configAsRecorded(withSets(currentUser) as UserConfig));
  return { loaded: { ...current, file: typeof configFile === 'string' ? configFile : current.file, user: user as UserConfig }, diff, notes, recorded };
}
