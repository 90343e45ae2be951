import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Trainer, loadConfig, resolveConfig, UserError } from '@poke/core';
import { resolvePlugins, redactUrl, latestRun, readRecordedConfig, resumeConfig, shapeDiff, configForDisk, parseSetValue } from '@poke/core/internal';
import type { PluginSpec, LoadedConfig, PokePlugin, ResolvedConfig } from '@poke/core';
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
  storage?: string;
  useCurrentConfig?: boolean;
  initFrom?: string;
  initOptimizer?: boolean;
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

/** The last `--set key=…` of `key`, parsed as --set parses it. */
function setValue(set: readonly string[], key: string): unknown {
  const last = [...set].reverse().find((a) => a.startsWith(`${key}=`));
  return last === undefined ? undefined : parseSetValue(last.slice(key.length + 1));
}

interface ResumeBase {
  loaded: LoadedConfig;
  runDir: string;
  runName: string;
  recorded: Record<string, unknown>;
}

/**
 * A resumed run continues with its own config.json; this command line's --set,
 * --plugin, --no-plugin and --backend apply on top. The current config file is
 * reported when it differs, and applied only with --use-current-config.
 */
async function resumeBase(current: LoadedConfig, flags: TrainFlags, set: readonly string[], context: CommandContext): Promise<ResumeBase | undefined> {
  const runsDir = resolve(current.baseDir, String(setValue(set, 'runsDir') ?? current.user.runsDir ?? 'runs'));
  const named = flags.runName ?? (setValue(set, 'runName') as string | undefined) ?? current.user.runName;
  const runName = named ?? (flags.resume === 'auto' ? undefined : await latestRun(runsDir));
  // A run that does not exist yet (auto starts it) or a name that is wrong: the trainer says which.
  if (!runName || !existsSync(join(runsDir, runName, 'run.json'))) return undefined;
  const runDir = join(runsDir, runName);
  const recorded = await readRecordedConfig(runDir);
  if (!recorded) {
    context.logger.warn(`resume: ${runDir} has no config.json; continuing with the current config`);
    return undefined;
  }
  const plan = resumeConfig(recorded, current, runDir, set);
  const where = current.file ?? 'the built-in default';
  const diff = plan.diff.map((line) => `\n  ${line}`).join('');
  if (flags.useCurrentConfig) {
    context.logger.info(`resume: --use-current-config: ${where} replaces ${join(runDir, 'config.json')}${diff ? `; run's config → current:${diff}` : ' (they agree)'}`);
    return { loaded: current, runDir, runName, recorded };
  }
  context.logger.info(`resume: continuing with the run's own config, ${join(runDir, 'config.json')}; this command's --set, --plugin, --no-plugin and --backend apply on top`);
  if (diff) context.logger.warn(`resume: ${where} differs from the run's config and is ignored (pass --use-current-config to apply it); run's config → current:${diff}`);
  for (const note of plan.notes) context.logger.info(`resume: ${note}`);
  return { loaded: plan.loaded, runDir, runName, recorded };
}

/** A config with `storage` needs the storage plugin; it is added when the config does not list it. */
async function withStoragePlugin(config: ResolvedConfig, plugins: PokePlugin[], baseDir: string): Promise<PokePlugin[]> {
  if (!config.storage || plugins.some((p) => p.name === 'poke:storage')) return plugins;
  return [...plugins, ...(await resolvePlugins(['storage'], baseDir))];
}

/** Weights of one shape cannot continue as another: refused before anything is written. */
function refuseShapeChange(runDir: string, recorded: Record<string, unknown>, resolved: Record<string, unknown>): void {
  const changed = shapeDiff(recorded, resolved);
  if (changed.length === 0) return;
  throw new UserError(
    `--resume: ${runDir} cannot continue with a different model shape: ${changed.join('; ')}`,
    'its checkpoints hold weights of the run\'s shape; start a new run from them with --init-from, or leave these keys as the run had them',
  );
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
  if (flags.initFrom !== undefined && flags.resume !== undefined && flags.resume !== 'auto') {
    throw new UserError('--init-from starts a new run and --resume continues one; give one of them', 'fine-tune into a new --run-name with --init-from');
  }
  if (flags.initOptimizer && flags.initFrom === undefined) throw new UserError('--init-optimizer needs --init-from');
  const backend = flags.backend ? `train.backend=${JSON.stringify(flags.backend)}` : undefined;
  const storage = flags.storage ? `storage.url=${JSON.stringify(flags.storage)}` : undefined;
  const set = [...flags.set, ...(backend ? [backend] : []), ...(storage ? [storage] : [])];
  const resuming = flags.resume !== undefined ? await resumeBase(loaded, flags, set, context) : undefined;
  if (resuming) loaded = resuming.loaded;
  const runName = flags.runName ?? resuming?.runName;
  const { config, plugins } = await resolveConfig(loaded, {
    set,
    addPlugins: flags.plugin.map(parsePluginFlag),
    removePlugins: flags.noPlugin,
    cwd: context.cwd,
    ...(runName !== undefined ? { runName } : {}),
    flags: {
      ...(backend ? { [backend]: `--backend ${flags.backend}` } : {}),
      ...(storage ? { [storage]: `--storage ${flags.storage}` } : {}),
    },
  });
  if (resuming) refuseShapeChange(resuming.runDir, resuming.recorded, configForDisk(config));
  const trainer = new Trainer(config, {
    plugins: [...(await withStoragePlugin(config, plugins, loaded.baseDir)), progressPlugin({ live: flags.progress })],
    baseDir: loaded.baseDir,
    handleSignals: true,
    logger: context.logger,
    ...(flags.resume !== undefined ? { resume: flags.resume === true ? 'latest' : flags.resume } : {}),
    ...(flags.initFrom !== undefined ? { initFrom: flags.initFrom, initOptimizer: flags.initOptimizer ?? false } : {}),
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
    .option('--init-from <run|checkpoint>', 'start a new run from another run\'s weights: a run folder (its best checkpoint, else its latest), a run name, or a checkpoint folder')
    .option('--init-optimizer', 'with --init-from: also take the optimizer\'s state (Adam\'s moments and step count)')
    .option('--use-current-config', 'with --resume: continue with the current config file instead of the run\'s own config.json (the differences are listed either way)')
    .option('--storage <url>', 'mirror the run to S3-compatible storage and resume it from there: s3://bucket/prefix (same as --set storage.url=…; credentials from the standard AWS chain)')
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
  $ poke train --run-name job-17 --resume auto --storage s3://bucket/runs   … on whichever machine it lands
  $ poke train --run-name ft --init-from runs/baseline   a new run starting from baseline's best weights

Exit codes: 0 done, 1 bug (stack trace), 2 bad input (one line), 130 interrupted (after a clean stop).`,
    )
    .action((flags: TrainFlags) => train(flags, context));
}
