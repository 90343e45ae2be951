import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Rng, UserError, selectBackend } from '@poke/core';
import type { BackendName } from '@poke/core';
import { agentAction, builtinAgent } from './battle.js';
import { loadPolicy, policyAgent } from './eval.js';
import { batchedChooser } from './play/batched-chooser.js';
import type { BatchStats } from './play/batched-chooser.js';
import { Bot } from './play/bot.js';
import type { PlayEvent, PlayMode } from './play/bot.js';
import type { Chooser } from './play/session.js';
import { FORMAT_HELP, backendOf, builtinNamed, formatOf, positiveInt, seedOf, serverOf, wholeNumberOf } from './cli-common.js';
import type { Context } from './cli-common.js';

interface PlayFlags {
  server: string;
  name: string;
  passwordEnv?: string;
  loginServer?: string;
  accept?: string | true;
  challenge?: string;
  search?: boolean;
  battles?: number;
  format: string;
  maxConcurrent: number;
  timer?: boolean;
  out?: string;
  forfeitOnStop?: boolean;
  reconnects?: number;
  backend: BackendName;
  seed: number;
  json?: boolean;
}

function modeOf(flags: PlayFlags): PlayMode {
  const chosen = [flags.accept !== undefined, flags.challenge !== undefined, Boolean(flags.search)].filter(Boolean).length;
  if (chosen !== 1) throw new UserError('choose one of --accept [USERS], --challenge USER or --search', 'poke play runs/a --accept');
  if (flags.accept !== undefined) {
    const from = typeof flags.accept === 'string' ? flags.accept.split(',').map((u) => u.trim()).filter(Boolean) : undefined;
    return { kind: 'accept', ...(from?.length ? { from } : {}), ...(flags.battles ? { battles: flags.battles } : {}) };
  }
  const battles = flags.battles ?? 1;
  return flags.challenge !== undefined ? { kind: 'challenge', user: flags.challenge, battles } : { kind: 'search', battles };
}

/** The chooser for a run, a checkpoint or a built-in player, and the run folder if there is one. */
export async function chooserFor(path: string, flags: { seed: number; backend: BackendName }, cwd: string): Promise<{ choose: Chooser; runDir?: string; batches?: BatchStats }> {
  const builtin = builtinNamed(path, cwd);
  if (builtin) {
    const agent = builtinAgent(builtin, flags.seed);
    const rng = 'seed' in agent ? Rng.fromSeed(agent.seed) : undefined;
    return { choose: (view, mask) => agentAction(agent, view, mask, rng) };
  }
  await selectBackend(flags.backend);
  const { model, runDir } = await loadPolicy(resolve(cwd, path));
  // The same encoder and mask as training: features of the player's view, argmax over the legal
  // actions; the decisions of battles played at once answered together.
  const batches: BatchStats = { passes: 0, decisions: 0 };
  return { choose: batchedChooser(policyAgent(model), batches), batches, ...(runDir ? { runDir } : {}) };
}

/** A bot's event as one line for stderr. */
export function describeEvent(event: PlayEvent): string {
  switch (event.type) {
    case 'connected':
      return `connected to ${event.url}`;
    case 'logged-in':
      return `logged in as ${event.name}`;
    case 'battle-start':
      return `battle ${event.room} started`;
    case 'battle-end': {
      const l = event.line;
      return `battle ${l.battle}: ${l.result} vs ${l.opponent || '?'} in ${l.turns} turns (${l.decisions} decisions, ${l.rejected} refused, ${l.malformed} malformed lines) → ${l.log}`;
    }
    case 'disconnected':
      return `connection lost; reconnecting in ${(event.retryMs / 1000).toFixed(1)} s`;
    case 'refused':
      return `server: ${event.message}`;
    case 'stopping':
      return `stopping: no new battles; ${event.forfeit ? 'forfeiting' : 'finishing'} ${event.running} running (Ctrl-C again forfeits)`;
  }
}

/** `poke play RUN|CHECKPOINT|PLAYER --accept|--challenge USER|--search`. */
export function registerPlay(program: Command, context: Context): void {
  program
    .command('play')
    .description('play a trained policy (or a built-in player) on a Showdown server over its websocket; every battle is logged for poke data import')
    .argument('<player>', 'a run folder (best checkpoint, else latest), a checkpoint folder, or a built-in player: random, maxpower, heuristic, expert')
    .option('--server <url>', 'the server (ws://host:port or the full websocket URL)', serverOf, 'ws://127.0.0.1:8000')
    .option('--name <name>', 'user name', 'poke-bot')
    .option('--password-env <var>', 'log in with the password in this environment variable, through the login server (not covered by the tests, which run a server without authentication)')
    .option('--login-server <url>', 'login server for --password-env', 'https://play.pokemonshowdown.com/action.php')
    .option('--accept [users]', 'accept challenges: from anyone, or from these comma-separated users')
    .option('--challenge <user>', 'challenge this user, --battles times')
    .option('--search', 'search for battles in --format, --battles times')
    .option('--battles <n>', 'battles to play (--accept: stop after n; default: until Ctrl-C)', positiveInt('--battles'))
    .option('--format <id>', `${FORMAT_HELP}; the bot brings no team`, formatOf, 'gen9randombattle')
    .option('--max-concurrent <n>', 'battles at once; a policy answers the decisions that arrive together in one forward pass', positiveInt('--max-concurrent'), 1)
    .option('--timer', 'turn the battle timer on in every battle')
    .option('--out <dir>', "battle logs and results.jsonl (default: the run's play/ folder, else ./play)")
    .option('--forfeit-on-stop', 'on Ctrl-C forfeit running battles instead of finishing them')
    .option('--reconnects <n>', 'times to reconnect in a row, with no login between them, before giving up with exit code 2 (default: without end)', wholeNumberOf('--reconnects'))
    .option('--seed <n>', 'seed of a built-in player (an integer)', seedOf, 1)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm or cpu', backendOf, 'auto' as BackendName)
    .option('--json', 'print the summary as JSON at the end')
    .addHelpText('after', '\nExamples:\n  $ poke play runs/a --accept --name mybot\n  $ poke play runs/a --challenge otherbot --battles 20 --max-concurrent 4\n  $ poke play runs/a --search --battles 10 --server ws://127.0.0.1:8000\n  $ poke data import runs/a/play/*.log --out data/played')
    .action(async (path: string, flags: PlayFlags) => {
      const mode = modeOf(flags);
      const password = flags.passwordEnv ? process.env[flags.passwordEnv] : undefined;
      if (flags.passwordEnv && !password) throw new UserError(`--password-env ${flags.passwordEnv}: the variable is not set`);
      const { choose, runDir, batches } = await chooserFor(path, flags, context.cwd);
      const outDir = flags.out ? resolve(context.cwd, flags.out) : runDir ? join(runDir, 'play') : resolve(context.cwd, 'play');
      const bot = new Bot({
        server: flags.server, name: flags.name, ...(password ? { password, loginServer: flags.loginServer } : {}),
        mode, format: flags.format, maxConcurrent: flags.maxConcurrent, maxReconnects: flags.reconnects, timer: Boolean(flags.timer), outDir, choose,
        // Events on stderr: stdout holds only the summary (JSON with --json).
        onEvent: (event) => console.error(describeEvent(event)),
      });
      let interrupts = 0;
      const onSignal = () => {
        interrupts++;
        bot.stop(interrupts > 1 || Boolean(flags.forfeitOnStop));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await bot.start();
        if (flags.json) console.log(JSON.stringify({ outDir, ...summary, ...(batches ? { forwardPasses: batches.passes } : {}) }, null, 2));
        else {
          const passes = batches ? `; ${batches.decisions} decisions in ${batches.passes} forward passes` : '';
          console.log(`${summary.battles} battles: ${summary.wins} won, ${summary.losses} lost, ${summary.ties} tied, ${summary.aborted} aborted; ${summary.rejected} choices refused, ${summary.malformed} malformed lines, ${summary.reconnects} reconnects${passes}; logs in ${outDir}`);
        }
        if (interrupts) context.setExitCode(130);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** Module behind `poke play` (package.json `poke.commands.play`). */
export default registerPlay;
