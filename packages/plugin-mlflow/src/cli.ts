import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, redactUrl } from '@poke/core';
import type { Logger } from '@poke/core';
import { syncRun } from './sync.js';

interface Context {
  readonly cwd: string;
  readonly logger: Logger;
  setExitCode(code: number): void;
}

/** `poke mlflow sync RUN_DIR [--json]`: contributed to the poke CLI through package.json `poke.commands`. */
export default function registerMlflow(program: Command, context: Context): void {
  const mlflow = program.commands.find((c) => c.name() === 'mlflow') ?? program.command('mlflow');
  mlflow.description('MLflow tracking: deliver what a run spooled while the server was away');
  mlflow
    .command('sync')
    .description("send a run's undelivered MLflow records (runs/<run>/mlflow/spool.jsonl); running it twice sends nothing twice")
    .argument('<run-dir>', 'a run folder (runs/<name>)')
    .option('--tracking-uri <uri>', 'send to this server instead of the one the run used (creates a new MLflow run there)')
    .option('--timeout <seconds>', 'give up after this long; what is left stays in the spool', '60')
    .option('--json', 'print JSON for programs')
    .action(async (runDir: string, flags: { trackingUri?: string; timeout: string; json?: boolean }) => {
      const timeout = Number(flags.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UserError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
      if (flags.trackingUri && !/^https?:\/\/\S+$/.test(flags.trackingUri)) throw new UserError(`--tracking-uri must be an http(s) URI, got "${redactUrl(flags.trackingUri)}"`);
      const result = await syncRun(resolve(context.cwd, runDir), {
        logger: context.logger,
        timeoutMs: timeout * 1000,
        ...(flags.trackingUri ? { trackingUri: flags.trackingUri } : {}),
      });
      if (flags.json) console.log(JSON.stringify(result, null, 2));
      else {
        const d = result.delivered;
        console.log(
          `run ${result.runId ?? '(not created)'} at ${result.trackingUri}: sent ${d.records} records (${d.metrics} values), ${d.params} params, ` +
            `${d.tags} tags, ${d.statuses} status updates, ${d.artifactFiles} artifact files; ${d.skipped} records were already there`,
        );
        console.log(result.pending === 0 ? 'nothing pending' : `${result.pending} entries still pending (${result.error ?? 'unknown error'})`);
      }
      if (result.pending > 0) context.setExitCode(1);
    });
}
