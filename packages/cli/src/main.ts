import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { isUserError, consoleLogger, PluginError } from '@poke/core';
import type { UserError } from '@poke/core';
import { trainCommand } from './commands/train.js';
import { initCommand } from './commands/init.js';
import { doctorCommand } from './commands/doctor.js';
import { discoverCommands, loadCommand, CLI_DIR } from './extensions.js';
import type { CommandContext } from './context.js';
import { countedProgress } from './counted-progress.js';
import { openRemoteFolder } from './remote-folder.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Exit codes: 0 ok, 1 a bug, 2 a user's mistake, 130 interrupted. */
export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let exitCode = 0;
  const context: CommandContext = {
    cwd,
    logger: consoleLogger,
    setExitCode: (code) => {
      exitCode = code;
    },
    progress: (label) => {
      const counted = countedProgress();
      return (done, total) => counted.update(label, done, total);
    },
    remoteFolder: (url) => openRemoteFolder(url, cwd, consoleLogger),
  };
  const program = new Command('poke')
    .description('poke: train Pokémon battle policies by behaviour cloning')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(trainCommand(context));
  program.addCommand(initCommand(context));
  program.addCommand(doctorCommand(context));

  const wanted = argv[2];
  const contributed = discoverCommands([cwd, CLI_DIR]).filter((c) => !['train', 'init', 'doctor', 'help'].includes(c.name));
  for (const command of contributed.filter((c) => c.name === wanted)) {
    await (await loadCommand(command))(program, context);
  }
  // The rest are listed for --help only; their modules load when their command runs.
  const listed = new Map<string, string[]>();
  for (const c of contributed.filter((c) => c.name !== wanted)) {
    listed.set(c.name, [...(listed.get(c.name) ?? []), `${c.description} (${c.pkg})`]);
  }
  for (const [name, descriptions] of listed) program.command(name).description(descriptions.join('; '));
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed the message (or the help/version text).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return err.exitCode === 0 ? 0 : 2;
  }
  if (isUserError(err)) {
    const { message, hint } = err as UserError;
    process.stderr.write(`poke: ${message}${hint ? ` (${hint})` : ''}\n`);
    return 2;
  }
  if (err instanceof PluginError && isUserError(err.cause)) {
    const { hint } = err.cause as UserError;
    process.stderr.write(`poke: ${err.message}${hint ? ` (${hint})` : ''}\n`);
    return 2;
  }
  if (err instanceof PluginError) {
    process.stderr.write(`poke: ${err.message}\n${(err.cause as Error)?.stack ?? ''}\n`);
    return 1;
  }
  process.stderr.write(`poke: internal error (a bug; please report it with this trace)\n${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
