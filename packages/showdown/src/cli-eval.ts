import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { UserError, selectBackend, writeJsonAtomic } from '@poke/core';
import type { BackendName } from '@poke/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { OPPONENTS } from './generate.js';
import { builtinFor, loadPolicy, policyAgent, policyFor } from './eval.js';
import { playMatchParallel, workerCount } from './eval-parallel.js';
import { EvalWorkers } from './eval-workers.js';
import { DEFAULT_CONCURRENCY } from './batch.js';
import type { AgentFor, EvalResult } from './eval.js';
import { FORMAT_HELP, backendOf, builtinNamed, formatOf, isOpponent, positiveInt, seedOf, serverOf, wholeNumberOf } from './cli-common.js';
import { chooserFor, describeEvent } from './cli-play.js';
import { Bot } from './play/bot.js';
import { wilson } from './eval.js';
import type { Context } from './cli-common.js';

/** A player named on the command line: a built-in one, or a policy from a run or checkpoint. */
interface Named {
  /** As eval.json and the table name it: the built-in's name, or the path relative to the working folder. */
  name: string;
  agentFor(role: 'player' | 'opponent', seed: number): AgentFor;
  runDir?: string;
  checkpoint?: string;
  model?: LayersModel;
}

/** A built-in player, or a policy from the folder `value` names (see builtinNamed). */
async function named(value: string, cwd: string): Promise<Named> {
  const builtin = builtinNamed(value, cwd);
  if (builtin) return { name: builtin, agentFor: (role, seed) => builtinFor(builtin, seed, role) };
  const path = resolve(cwd, value);
  const { model, checkpoint, runDir } = await loadPolicy(path);
  const agent = policyFor(policyAgent(model));
  return { name: folderName(relative(cwd, path)), agentFor: () => agent, model, checkpoint, ...(runDir ? { runDir } : {}) };
}

/** A folder as eval.json and the table name it: ./random for a folder called random, so it is never taken for the built-in. */
function folderName(path: string): string {
  if (!path) return '.';
  return isOpponent(path) ? `.${sep}${path}` : path;
}

function listOf(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (!items.length) throw new UserError(`--vs needs a player: ${OPPONENTS.join(', ')}, or a run folder`);
  return [...(previous ?? []), ...items];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** One cell: win rate and its interval. */
function cell(r: EvalResult): string {
  return `${pct(r.winRate)} (${pct(r.ci95[0])}–${pct(r.ci95[1])})`;
}

/** Rows are the players, columns the opponents; each cell the row's win rate with its 95% interval. */
export function matrixText(players: string[], opponents: string[], results: Map<string, EvalResult>): string {
  const rows = [['', ...opponents.map((o) => `vs ${o}`)], ...players.map((p) => [p, ...opponents.map((o) => (results.has(`${p}\n${o}`) ? cell(results.get(`${p}\n${o}`)!) : '—'))])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** Keep the latest result per opponent in RUN_DIR/eval.json, which poke compare reads. */
async function recordEval(runDir: string, record: { vs: string } & Record<string, unknown>): Promise<void> {
  const file = join(runDir, 'eval.json');
  const previous = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}));
  await writeJsonAtomic(file, { ...previous, [record.vs]: record });
}

interface EvalFlags {
  vs?: string[];
  battles: number;
  format: string;
  seed: number;
  backend: BackendName;
  server?: string;
  vsUser?: string;
  name: string;
  maxConcurrent: number;
  reconnects: number;
  concurrency: number;
  workers?: number;
  json?: boolean;
}

/** --reconnects' default with --server: 0.5 s doubling to 30 s, about a minute and a half, so a server restart is waited out and a server that is gone is not waited on forever. */
const EVAL_RECONNECTS = 8;

/** `poke eval PLAYER --server URL --vs-user NAME`: challenge an account on a server; aborted battles do not count. */
async function evalOnServer(paths: string[], flags: EvalFlags, context: Context): Promise<void> {
  if (!flags.server || !flags.vsUser) throw new UserError('--server and --vs-user go together', 'poke eval runs/a --server ws://127.0.0.1:8000 --vs-user somebot');
  if (paths.length !== 1 || flags.vs) throw new UserError('with --server, give one player and no --vs');
  const { choose, runDir } = await chooserFor(paths[0]!, flags, context.cwd);
  const outDir = runDir ? join(runDir, 'eval-server') : resolve(context.cwd, 'eval-server');
  const progress = context.progress('battles');
  let done = 0;
  const bot = new Bot({
    server: flags.server, name: flags.name, mode: { kind: 'challenge', user: flags.vsUser, battles: flags.battles }, format: flags.format,
    maxConcurrent: flags.maxConcurrent, maxReconnects: flags.reconnects, outDir, choose,
    // Battles show as progress; the connection's events, as `poke play` prints them (a server that cannot be reached says so).
    onEvent: (e) => {
      if (e.type === 'battle-end') progress(++done, flags.battles);
      else if (e.type !== 'battle-start') console.error(describeEvent(e));
    },
  });
  const summary = await bot.start();
  const played = summary.battles - summary.aborted;
  const score = summary.wins + summary.ties / 2;
  const record = {
    vs: flags.vsUser, server: flags.server, format: flags.format, battles: played, wins: summary.wins, losses: summary.losses, ties: summary.ties,
    aborted: summary.aborted, winRate: played ? score / played : 0, ci95: wilson(score, played), logs: outDir, timestamp: new Date().toISOString(),
  };
  if (runDir) await recordEval(runDir, record);
  if (flags.json) console.log(JSON.stringify(record, null, 2));
  else console.log(`win rate vs ${record.vs} on ${record.server}: ${pct(record.winRate)} (95% CI ${pct(record.ci95[0])}–${pct(record.ci95[1])}) over ${played} battles: ${record.wins} won, ${record.losses} lost, ${record.ties} tied, ${record.aborted} aborted`);
}

/** `poke eval PLAYER... --vs OPPONENT[,OPPONENT...] --battles N [--json]`. */
export function registerEval(program: Command, context: Context): void {
  program
    .command('eval')
    .description('play trained policies (argmax over legal actions) or built-in players in the simulator and report win rates with 95% intervals')
    .argument('<players...>', `run folders (best checkpoint, else latest), checkpoint folders, or built-in players (${OPPONENTS.join(', ')})`)
    .option('--vs <who>', `opponents, comma-separated: ${OPPONENTS.join(', ')}, or run folders (head to head); repeatable (default: random)`, listOf)
    .option('--battles <n>', 'battles per pair (sides and seeds balanced: each seed is played from both sides)', positiveInt('--battles'), 100)
    .option('--format <id>', FORMAT_HELP, formatOf, 'gen9randombattle')
    .option('--seed <n>', 'seed of the battles (an integer)', seedOf, 1)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm or cpu', backendOf, 'auto' as BackendName)
    .option('--concurrency <n>', 'battles played at once in the simulator by each worker thread, their policy decisions answered in one forward pass (results depend only on --seed: the same for any value on the cpu backend)', positiveInt('--concurrency'), DEFAULT_CONCURRENCY)
    .option('--workers <n>', 'worker threads (default: all cores) that play the battles; the policies answer all their decisions on the main thread (results the same for any value on the cpu backend)', positiveInt('--workers'))
    .option('--server <url>', 'play on this Showdown server instead of the simulator (with --vs-user; --concurrency and --workers do not apply)', serverOf)
    .option('--vs-user <name>', 'with --server: the account to challenge, --battles times (any bot, e.g. a poke-env player)')
    .option('--name <name>', 'with --server: our user name (no password: a server without authentication)', 'poke-eval')
    .option('--max-concurrent <n>', 'with --server: battles at once', positiveInt('--max-concurrent'), 1)
    .option('--reconnects <n>', 'with --server: times to reconnect in a row, with no login between them, before giving up with exit code 2', wholeNumberOf('--reconnects'), EVAL_RECONNECTS)
    .option('--json', 'print the result as JSON: one record for one pair, else an array of records with "player"')
    .addHelpText('after', '\nExamples:\n  $ poke eval runs/a --vs random --battles 500\n  $ poke eval runs/a --vs random,maxpower,heuristic,expert\n  $ poke eval runs/a --vs runs/b --battles 1000\n  $ poke eval heuristic maxpower --vs random,expert\n  $ poke eval runs/a --server ws://127.0.0.1:8000 --vs-user somebot --battles 50')
    .action(async (paths: string[], flags: EvalFlags) => {
      if (flags.server || flags.vsUser) return evalOnServer(paths, flags, context);
      const vs = flags.vs ?? ['random'];
      if ([...paths, ...vs].some((p) => !builtinNamed(p, context.cwd))) await selectBackend(flags.backend);
      const loaded = new Map<string, Named>();
      const load = async (value: string) => {
        let n = loaded.get(value);
        if (!n) loaded.set(value, (n = await named(value, context.cwd)));
        return n;
      };
      const players = await Promise.all(paths.map(load));
      const opponents = await Promise.all(vs.map(load));
      const results = new Map<string, EvalResult>();
      const records: Array<Record<string, unknown>> = [];
      // One set of threads for every pair: each takes about a second to load the simulator.
      const pool = new EvalWorkers(workerCount(flags.workers, flags.battles));
      try {
        for (const player of players) {
          for (const opponent of opponents) {
            const label = players.length * opponents.length > 1 ? `battles ${player.name} vs ${opponent.name}` : 'battles';
            const options = { battles: flags.battles, format: flags.format, seed: flags.seed, concurrency: flags.concurrency, pool, onBattle: context.progress(label) };
            const result = await playMatchParallel(player.agentFor('player', flags.seed), opponent.agentFor('opponent', flags.seed), opponent.name, options);
            const record = { ...result, ...(player.checkpoint ? { checkpoint: player.checkpoint } : {}), seed: flags.seed, timestamp: new Date().toISOString() };
            if (player.runDir) await recordEval(player.runDir, record);
            results.set(`${player.name}\n${opponent.name}`, result);
            records.push({ player: player.name, ...record });
          }
        }
      } finally {
        await pool.close();
      }
      for (const n of loaded.values()) n.model?.dispose();
      if (flags.json) {
        const [only] = records;
        if (records.length === 1 && only) {
          const { player: _player, ...record } = only;
          console.log(JSON.stringify(record, null, 2));
        } else console.log(JSON.stringify(records, null, 2));
      } else if (records.length === 1) {
        const r = results.values().next().value!;
        console.log(`win rate vs ${r.vs}: ${pct(r.winRate)} (95% CI ${pct(r.ci95[0])}–${pct(r.ci95[1])}) over ${r.battles} battles: ${r.wins} won, ${r.losses} lost, ${r.ties} tied`);
      } else {
        console.log(`win rate of each row against each column, with its 95% interval, over ${flags.battles} battles per pair:`);
        console.log(matrixText(players.map((p) => p.name), opponents.map((o) => o.name), results));
      }
    });
}

/** Module behind `poke eval` (package.json `poke.commands.eval`). */
export default registerEval;
