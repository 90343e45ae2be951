import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, writeFileAtomic } from '@poke/core';
import { compareRunsWithSeries } from './compare.js';
import { renderTable } from './table.js';
import { renderPlot } from './plot.js';
import { renderHtml } from './html.js';

interface Context {
  readonly cwd: string;
  readonly logger: { info(m: string): void; warn(m: string): void };
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
    .argument('<run-dir...>', 'run folders, or folders that hold runs (runs/)')
    .option('-m, --metric <name>', 'any logged metric', 'val_loss')
    .option('--mode <min|max>', 'lower or higher is better (default: max for accuracy-like names, min otherwise)')
    .option('--opponent <name>', 'win rates only against this opponent (poke eval --vs NAME); with --metric win_rate, runs without one go last')
    .option('--all-params', 'show every config key, not only those whose values differ between the runs')
    .option('--json', 'print the rows as JSON for programs')
    .option('--html <file>', 'write a self-contained HTML report with interactive charts')
    .option('--plot', 'plot the metric over steps in the terminal, one line per run')
    .addHelpText('after', '\nExamples:\n  $ poke compare runs/\n  $ poke compare runs/a runs/b --metric val_accuracy --plot\n  $ poke compare runs/ --metric win_rate --opponent random\n  $ poke compare runs/ --html report.html')
    .action(async (dirs: string[], flags: Flags) => {
      if (flags.mode !== undefined && flags.mode !== 'min' && flags.mode !== 'max') throw new UserError(`--mode must be min or max, got "${flags.mode}"`);
      const paths = dirs.map((d) => resolve(context.cwd, d));
      for (const [i, path] of paths.entries()) {
        const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
        if (!isDir) throw new UserError(`compare: ${dirs[i]} is not a folder`, 'give run folders (runs/<run>) or a folder that holds runs (runs/)');
      }
      const runs = await compareRunsWithSeries(
        paths,
        { metric: flags.metric, ...(flags.mode ? { mode: flags.mode as 'min' | 'max' } : {}), ...(flags.opponent ? { opponent: flags.opponent } : {}), allParams: Boolean(flags.allParams) },
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
    });
}
