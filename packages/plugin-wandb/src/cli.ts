import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '@poke/core';
import type { Logger } from '@poke/core';
import { syncRun } from './sync.js';

interface Context {
  readonly cwd: string;
  readonly logger: Logger;
  setExitCode(code: number): void;
}

/** `poke wandb sync RUN_DIR [--json]`: contributed to the poke CLI through package.json `poke.commands`. */
export default function registerWandb(program: Command, context: Context): void {
  const wandb = program.commands.find((c) => c.name() === 'wandb') ?? program.command('wandb');
  wandb.description('Weights & Biases: upload what a run spooled offline or while the server was away');
  wandb
    .command('sync')
    .description("send a run's undelivered W&B records (runs/<run>/wandb/offline.jsonl); running it twice sends nothing twice")
    .argument('<run-dir>', 'a run folder (runs/<name>)')
    .option('--timeout <seconds>', 'give up after this long; what is left stays in the spool', '60')
    .option('--json', 'print JSON for programs')
    .action(async (runDir: string, flags: { timeout: string; json?: boolean }) => {
      const timeout = Number(flags.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UserError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
      const result = await syncRun(resolve(context.cwd, runDir), { logger: context.logger, timeoutMs: timeout * 1000 });
      if (flags.json) console.log(JSON.stringify(result, null, 2));
      else {
        const d = result.delivered;
        console.log(
          `run ${result.entity ?? '?'}/${result.project}/${result.runId} at ${result.baseUrl}: sent ${d.rows} history rows, ${d.upserts} run updates, ` +
            `${d.summaries} summaries, ${d.finishes} exit states; ${d.skipped} rows were already there`,
        );
        console.log(result.pending === 0 ? 'nothing pending' : `${result.pending} entries still pending (${result.error ?? 'unknown error'})`);
      }
      if (result.pending > 0) context.setExitCode(1);
    });
}
