import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RegisterCommand } from './context.js';

export interface ContributedCommand {
  readonly name: string;
  readonly description: string;
  /** Absolute path of the module whose default export registers the command. */
  readonly module: string;
  readonly pkg: string;
}

interface PokeManifest {
  commands?: Record<string, { description?: string; module?: string }>;
  schemes?: Record<string, { module?: string }>;
}

function* nodeModulesDirs(start: string): Generator<string> {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate)) yield candidate;
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function* pluginPackageDirs(nodeModules: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(nodeModules);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.startsWith('poke-plugin-')) yield join(nodeModules, entry);
    else if (entry.startsWith('@')) {
      let scoped: string[] = [];
      try {
        scoped = readdirSync(join(nodeModules, entry));
      } catch {
        continue;
      }
      for (const name of scoped) {
        if (entry === '@poke' || name.startsWith('poke-plugin-')) yield join(nodeModules, entry, name);
      }
    }
  }
}

/** The `poke` manifest of every installed poke package visible from `from`, nearest first, once each. */
function* pokeManifests(from: string[]): Generator<{ dir: string; pkg: string; poke: PokeManifest }> {
  const seen = new Set<string>();
  for (const start of from) {
    for (const nodeModules of nodeModulesDirs(start)) {
      for (const dir of pluginPackageDirs(nodeModules)) {
        if (seen.has(dir)) continue;
        seen.add(dir);
        let pkg: { name?: string; poke?: PokeManifest };
        try {
          pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        } catch {
          continue;
        }
        if (pkg.poke) yield { dir, pkg: pkg.name ?? dir, poke: pkg.poke };
      }
    }
  }
}

/**
 * Commands that installed plugin packages contribute through `poke.commands` in
 * their package.json. Only manifests are read here; a module is imported when
 * its command runs, so `poke --help` stays fast.
 */
export function discoverCommands(from: string[]): ContributedCommand[] {
  // Several packages may add to one command (the checkpoint and retention plugins both add to `ckpt`).
  const found = new Map<string, ContributedCommand>();
  for (const { dir, pkg, poke } of pokeManifests(from)) {
    for (const [name, spec] of Object.entries(poke.commands ?? {})) {
      if (!spec.module) continue;
      const module = resolve(dir, spec.module);
      if (!found.has(module)) found.set(module, { name, description: spec.description ?? '', module, pkg });
    }
  }
  return [...found.values()];
}

/** The package serving URLs of `scheme` (`poke.schemes` in its package.json), nearest first. */
export function discoverScheme(from: string[], scheme: string): { module: string; pkg: string } | undefined {
  for (const { dir, pkg, poke } of pokeManifests(from)) {
    const spec = poke.schemes?.[scheme];
    if (spec?.module) return { module: resolve(dir, spec.module), pkg };
  }
  return undefined;
}

export async function loadCommand(command: ContributedCommand): Promise<RegisterCommand> {
  const mod = (await import(pathToFileURL(command.module).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new Error(`${command.pkg}: ${command.module} must default-export a function (program, context) => void`);
  }
  return mod.default as RegisterCommand;
}

export const CLI_DIR = dirname(fileURLToPath(import.meta.url));
