import type { Command } from 'commander';
import type { Logger, RemoteFolder } from '@poke/core';

/** What a command module receives besides the program to add its commands to. */
export interface CommandContext {
  readonly cwd: string;
  readonly logger: Logger;
  /** Set the process exit code (e.g. 1 when `verify` finds a bad checkpoint). */
  setExitCode(code: number): void;
  /**
   * Progress of counted work (`label done/total`): a bar on a terminal, a line
   * every few seconds in a log. Call it as often as work advances.
   */
  progress(label: string): (done: number, total: number) => void;
  /**
   * A folder given as a URL (`s3://bucket/prefix`), opened through the installed
   * package that serves its scheme. Close it when done.
   */
  remoteFolder(url: string): Promise<RemoteFolder>;
}

/**
 * The default export of a module listed under `poke.commands` in a package.json:
 * it adds one command (with sub-commands if it likes) to the program.
 *
 *   "poke": { "commands": { "ckpt": { "description": "…", "module": "./dist/cli.js" } } }
 */
export type RegisterCommand = (program: Command, context: CommandContext) => void | Promise<void>;
