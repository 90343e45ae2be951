import { resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { UserError } from '../errors.js';

/** What a sync command reports: the sender's counts and the like, with what is left. */
export interface SyncOutcome {
  /** Entries still in the spool, undelivered; 0 when the server has everything. */
  pending: number;
  error: string | undefined;
}

/** The part of commander's `Command` a sync command uses: the CLI passes its program. */
export interface CommandLike {
  readonly commands: readonly CommandLike[];
  name(): string;
  command(name: string): CommandLike;
  description(text: string): unknown;
  argument(name: string, description?: string): unknown;
  option(flags: string, description?: string, defaultValue?: string): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander hands each option's parsed value, as declared
  action(fn: (...args: any[]) => void | Promise<void>): unknown;
}

/** What a command module gets from the CLI besides the program (`CommandContext` in @poke/cli). */
export interface SyncCommandContext {
  readonly cwd: string;
  readonly logger: Logger;
  setExitCode(code: number): void;
}

export interface SyncCommandDefinition<R extends SyncOutcome, F extends object> {
  /** The tracker's id: the command is `poke <id> sync`. */
  id: string;
  /** Of `poke <id>`. */
  description: string;
  /** Of `poke <id> sync`. */
  syncDescription: string;
  /** Options of the tracker's own, `[flags, description]`, read into `flags` by commander's names. */
  options?: ReadonlyArray<readonly [string, string]>;
  sync(runDir: string, flags: F, options: { logger: Logger; timeoutMs: number }): Promise<R>;
  /** The first line of the report: what was sent, and to which run. */
  report(result: R): string;
}

/**
 * `poke <id> sync RUN_DIR [--timeout S] [--json]`, for a tracker package's
 * command module (package.json `poke.commands`): exits 1 while entries are pending.
 */
export function registerSyncCommand<R extends SyncOutcome, F extends object>(program: CommandLike, context: SyncCommandContext, definition: SyncCommandDefinition<R, F>): void {
  const group = program.commands.find((c) => c.name() === definition.id) ?? program.command(definition.id);
  group.description(definition.description);
  const command = group.command('sync');
  command.description(definition.syncDescription);
  command.argument('<run-dir>', 'a run folder (runs/<name>)');
  for (const [flags, description] of definition.options ?? []) command.option(flags, description);
  command.option('--timeout <seconds>', 'give up after this long; what is left stays in the spool', '60');
  command.option('--json', 'print JSON for programs');
  command.action(async (runDir: string, flags: F & { timeout: string; json?: boolean }) => {
    const timeout = Number(flags.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UserError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
    const result = await definition.sync(resolve(context.cwd, runDir), flags, { logger: context.logger, timeoutMs: timeout * 1000 });
    if (flags.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(definition.report(result));
      console.log(result.pending === 0 ? 'nothing pending' : `${result.pending} entries still pending (${result.error ?? 'unknown error'})`);
    }
    if (result.pending > 0) context.setExitCode(1);
  });
}
