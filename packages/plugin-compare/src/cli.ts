import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, urlScheme, writeFileAtomic } from '@poke/core';
import type { RemoteFolder, MonitorMode } from '@poke/core';
import { compareRunsWithSeries } from './compare.js';
import { renderTable } from './table.js';
import { renderPlot } from './plot.js';
import { renderHtml } from './html.js';

interface Context {
  readonly cwd: string;
  readonly logger: { info(m: string): void; warn(m: string): void };
  remoteFolder(url: string): Promise<RemoteFolder>;
}

/** What compare reads of a run: its top-level files (run.json, config.json, metrics.csv), never checkpoints. */
const runFile = (path: string): boolean => path.split('/').length <= 2 && !path.split('/').includes('checkpoints');

/**
 * The local folders to compare: each local one as it is (it must exist), each
 * URL (s3://bucket/runs) mirrored into `scratch` first, its run files only.
 */
async function localFolders(dirs: string[], context: Context, scratch: () => Promise<string>): Promise<string[]> {
  const paths: string[] = [];
  for (const dir of dirs) {
    if (urlScheme(dir)) {
      const folder = await context.remoteFolder(dir);
      // Named as on the server, so a single run keeps its name in the table.
      const local = join(await scratch(), String(paths.length), basename(dir.replace(/\/+$/, '')));
      try {
        await folder.mirror(local, { include: runFile });
      } finally {
        folder.close();
      }
      paths.push(local);
      continue;
    }
    const path = resolve(context.cwd, dir);
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new UserError(`compare: ${dir} is not a folder`, 'give run folders (runs/<run>) or a folder that holds runs (runs/)');
    paths.push(path);
  }
  return paths;
}

interface Flags {
  metric: string;
  mode?: string;
  json?: boolean;
  html?: string;
  plot?: boolean;
  opponent?: string;
  allParams?: boolean;
}

/** `poke compare RUN_DIR... [--metric NAME] [--mode min|max] [--json] [--html FILE] [--plot]` */
export default function registerCompare(program: Command, context: Context): void {
  program
    .command('compare')
    .description('rank runs by a metric, best first; reads manifests, metadata and metrics.csv, never weights')
    .argument('<run-dir...>', 'run folders, or folders that hold runs (runs/); also s3://bucket/prefix, read through @poke/plugin-storage')
    .option('-m, --metric <name>', 'any logged metric', 'val_loss')
    .option('--mode <min|max>', 'lower or higher is better (default: max for accuracy-like names, min otherwise)')
    .option('--opponent <name>', 'win rates only against this opponent (poke eval --vs NAME); with --metric win_rate, runs without one go last')
    .option('--all-params', 'show every config key, not only those whose values differ between the runs')
    .option('--json', 'print the rows as JSON for programs')
    .option('--html <file>', 'write a self-contained HTML report with interactive charts')
    .option('--plot', 'plot the metric over steps in the terminal, one line per run')
    .addHelpText('after', '\nExamples:\n  $ poke compare runs/\n  $ poke compare runs/a runs/b --metric val_accuracy --plot\n  $ poke compare runs/ --metric win_rate --opponent random\n  $ poke compare runs/ --html report.html\n  $ poke compare s3://bucket/runs   (the server from the project config\'s storage key)')
    .action(async (dirs: string[], flags: Flags) => {
      if (flags.mode !== undefined && flags.mode !== 'min' && flags.mode !== 'max') throw new UserError(`--mode must be min or max, got "${flags.mode}"`);
      let temp: string | undefined;
      const scratch = async () => (temp ??= await mkdtemp(join(tmpdir(), 'poke-compare-')));
      try {
        await compare(await localFolders(dirs, context, scratch), flags, context);
      } finally {
        if (temp) await rm(temp, { recursive: true, force: true });
      }
    });
}

async function compare(paths: string[], flags: Flags, context: Context): Promise<void> {
  const runs = await compareRunsWithSeries(
    paths,
    { metric: flags.metric, ...(flags.mode ? { mode: flags.mode as MonitorMode } : {}), ...(flags.opponent ? { opponent: flags.opponent } : {}), allParams: Boolean(flags.allParams) },
    Boolean(flags.plot || flags.html),
  );
  for (const run of runs) for (const warning of run.warnings) context.logger.warn(`compare: ${warning}`);
  if (flags.json) console.log(JSON.stringify(runs.map((r) => r.row), null, 2));
  else console.log(renderTable(runs.map((r) => r.row)));
  if (flags.plot && !flags.json) console.log('\n' + renderPlot(runs, flags.metric, { color: Boolean(process.stdout.isTTY) }));
  if (flags.html) {
    const path = resolve(context.cwd, flags.html);
    await writeFileAtomic(path, renderHtml(runs));
    if (!flags.json) console.log(`\nwrote ${path}`);
  }
}
