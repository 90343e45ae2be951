import { Command, Option } from 'commander';
import { Trainer, loadConfig, resolveConfig, UserError, redactUrl } from '@poke/core';
import type { PluginSpec } from '@poke/core';
import { progressPlugin } from '../progress.js';
import { builtInDefault } from '../defaults.js';
import type { CommandContext } from '../context.js';

interface TrainFlags {
  config?: string;
  set: string[];
  plugin: string[];
  noPlugin: string[];
  runName?: string;
  resume?: string | true;
  backend?: string;
  progress: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `csv` → 'csv'; `csv={"path":"m.csv"}` → ['csv', {path}]. */
export function parsePluginFlag(flag: string): PluginSpec {
  const eq = flag.indexOf('=');
  if (eq < 0) return flag;
  const name = flag.slice(0, eq);
  const json = flag.slice(eq + 1);
  try {
    return [name, JSON.parse(json)];
  } catch (err) {
    throw new UserError(`--plugin ${redactUrl(flag)}: options after "=" must be JSON: ${redactUrl((err as Error).message)}`);
  }
}

function noPluginOption(): Option {
  const option = new Option('--no-plugin <name>', 'leave out a plugin the config enables (repeatable)').argParser(collect).default([]);
  // Commander reads every --no-* flag as the negation of a boolean; this one takes a name.
  option.negate = false;
  return option;
}

async function train(flags: TrainFlags, context: CommandContext): Promise<void> {
  let loaded = await loadConfig({ cwd: context.cwd, ...(flags.config ? { configFile: flags.config } : {}) });
  if (!loaded.file) {
    const fallback = builtInDefault();
    loaded = { ...loaded, user: fallback.user };
    const plugins = (fallback.user.plugins as string[]).map((p) => p.replace(/^@poke\/(plugin-)?/, '')).join(', ') || 'none';
    context.logger.info(`no poke.config.* found from ${context.cwd}: running the built-in default (${fallback.data}; plugins: ${plugins}; \`poke init\` writes a config)`);
  } else {
    context.logger.info(`config: ${loaded.file}`);
  }
  const set = [...flags.set, ...(flags.backend ? [`train.backend=${JSON.stringify(flags.backend)}`] : [])];
  const { config, plugins } = await resolveConfig(loaded, {
    set,
    addPlugins: flags.plugin.map(parsePluginFlag),
    removePlugins: flags.noPlugin,
    cwd: context.cwd,
    ...(flags.runName !== undefined ? { runName: flags.runName } : {}),
  });
  const trainer = new Trainer(config, {
    plugins: [...plugins, progressPlugin({ live: flags.progress })],
    baseDir: loaded.baseDir,
    handleSignals: true,
    logger: context.logger,
    ...(flags.resume !== undefined ? { resume: flags.resume === true ? 'latest' : flags.resume } : {}),
  });
  const summary = await trainer.run();
  if (summary.status === 'interrupted') context.setExitCode(130);
}

export function trainCommand(context: CommandContext): Command {
  return new Command('train')
    .description('train a policy: load poke.config.*, apply plugins, run the trainer')
    .option('-c, --config <file>', 'config file (default: search poke.config.* from the current folder upwards)')
    .option('-s, --set <key=value>', 'override a config value, JSON or plain text (repeatable), e.g. --set train.epochs=3', collect, [])
    .option('-p, --plugin <name[=json]>', 'add a plugin by package, short name or path (repeatable), e.g. --plugin csv', collect, [])
    .addOption(noPluginOption())
    .option('-n, --run-name <name>', 'name of the run folder under runsDir')
    .option('-r, --resume [from]', 'continue a run: latest (default), best, a checkpoint id or path; auto: continue the named run if it exists, else start it (safe to re-run)')
    .option('-b, --backend <name>', 'compute backend: auto, tensorflow, wasm or cpu (same as --set train.backend=…)')
    .option('--no-progress', 'no progress bar: only one line per epoch and the summary (for log files)')
    .addHelpText(
      'after',
      `
Examples:
  $ poke train                                  built-in default, or ./poke.config.ts if there is one
  $ poke train --set train.epochs=3 --backend cpu
  $ poke train --plugin csv --no-plugin wandb
  $ poke train --run-name baseline --resume     continue runs/baseline from its latest checkpoint
  $ poke train --run-name job-17 --resume auto  the same command for every (re)start of a preemptible job

Exit codes: 0 done, 1 bug (stack trace), 2 bad input (one line), 130 interrupted (after a clean stop).`,
    )
    .action((flags: TrainFlags) => train(flags, context));
}
