import { join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, UserError, consoleLogger } from '@poke/core';
import type { PluginSpec } from '@poke/core';
import { CheckpointManager } from '@poke/plugin-checkpoint';
import { prune, resolveRetentionOptions, PLUGIN_NAME } from './plugin.js';

interface Context {
  readonly cwd: string;
}

/** The retention options a config gives, by package, short name or instance. */
function retentionOptionsIn(plugins: readonly PluginSpec[]): unknown {
  const names = new Set(['retention', '@poke/plugin-retention', PLUGIN_NAME]);
  for (const spec of plugins) {
    if (typeof spec === 'string' && names.has(spec)) return {};
    if (Array.isArray(spec) && names.has(spec[0] as string)) return spec[1] ?? {};
    if (typeof spec === 'object' && !Array.isArray(spec) && (spec as { name?: string }).name === PLUGIN_NAME) {
      return (spec as unknown as { options: unknown }).options;
    }
  }
  return undefined;
}

/** The plugins a run recorded in its config.json, or none when the file is missing or unreadable. */
function recordedPlugins(runDir: string): PluginSpec[] {
  try {
    const plugins = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { plugins?: unknown }).plugins;
    return Array.isArray(plugins) ? (plugins as PluginSpec[]) : [];
  } catch {
    return [];
  }
}

/** `poke ckpt prune RUN_DIR [--dry-run]`: apply the config's retention policy to an existing run. */
export default function registerPrune(program: Command, context: Context): void {
  const ckpt = program.commands.find((c) => c.name() === 'ckpt') ?? program.command('ckpt');
  ckpt
    .command('prune')
    .description("delete checkpoints by the config's retention policy (best, latest and pinned ones are never deleted)")
    .argument('<run-dir>', 'a run folder (runs/<name>)')
    .option('-c, --config <file>', "config file with the retention plugin (default: poke.config.* from the current folder up, else the run's own config.json)")
    .option('--dry-run', 'print what would be deleted and why; delete nothing')
    .option('--json', 'print JSON for programs')
    .action(async (runDir: string, flags: { config?: string; dryRun?: boolean; json?: boolean }) => {
      const loaded = await loadConfig({ cwd: context.cwd, ...(flags.config ? { configFile: flags.config } : {}) });
      // Without a config file (a run of the built-in default), the run's recorded config says which policy it trained with.
      const source = loaded.file ?? join(runDir, 'config.json');
      const raw = retentionOptionsIn(loaded.file ? ((loaded.user.plugins ?? []) as PluginSpec[]) : recordedPlugins(resolve(context.cwd, runDir)));
      if (raw === undefined) {
        throw new UserError(`${source} does not enable ${PLUGIN_NAME}`, "add '@poke/plugin-retention' (with its options) to plugins, or pass --config");
      }
      if (!flags.json) console.log(`retention policy from ${source}`);
      const options = resolveRetentionOptions(raw);
      const dir = join(runDir, 'checkpoints');
      if (!existsSync(join(dir, 'checkpoints.json'))) throw new UserError(`${runDir} has no checkpoints (no ${join(dir, 'checkpoints.json')})`);
      const manager = await CheckpointManager.open(dir, { monitor: { name: 'val_loss', mode: 'min' }, logger: consoleLogger });
      const deletions = await prune(options, manager, consoleLogger, flags.dryRun);
      if (flags.json) console.log(JSON.stringify({ dryRun: Boolean(flags.dryRun), deleted: deletions, kept: manager.list().map((e) => e.id) }, null, 2));
      else {
        for (const d of deletions) console.log(`${flags.dryRun ? 'would delete' : 'deleted'} ${d.id}: ${d.reason}`);
        console.log(`${deletions.length} ${flags.dryRun ? 'would be deleted' : 'deleted'}, ${manager.list().length - (flags.dryRun ? deletions.length : 0)} kept`);
      }
    });
}
