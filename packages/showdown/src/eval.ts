import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UserError } from '@poke/core';
import { forward } from '@poke/core/internal';
import { loadPolicyModel, readManifest, MANIFEST_FILE, METADATA_FILE } from '@poke/plugin-checkpoint';
import type { Agent, PolicyAgent } from './battle.js';
import { DEFAULT_CONCURRENCY, playBattles } from './batch.js';
import { builtinFor, matchBattle, outcomeOf } from './match.js';
import type { AgentFor } from './match.js';
import type { SideID } from './encoder/view.js';
import { ACTION_COUNT } from './actions.js';
import { FEATURE_SIZE } from './encoder/layout.js';
import { OPPONENTS } from './generate.js';
import type { Opponent } from './generate.js';

/** A match of a policy against a built-in opponent: the match's options and who the opponent is. */
export interface EvalOptions extends MatchOptions {
  vs: Opponent;
}

export { builtinFor, policyFor } from './match.js';
export type { AgentFor, PortableSide } from './match.js';

export interface MatchOptions {
  battles: number;
  /** @default "gen9randombattle" */
  format?: string;
  /** @default 1 */
  seed?: number;
  /** Battles played at once (by each worker thread with playMatchParallel), their policy decisions answered in one forward pass. @default 32 */
  concurrency?: number;
  onBattle?: (done: number, total: number) => void;
  /** Each battle's outcome for player A, by battle index (called in the order battles end, which with worker threads varies from run to run). */
  onResult?: (index: number, outcome: BattleOutcome) => void;
}

export interface BattleOutcome {
  result: 'win' | 'loss' | 'tie';
  turns: number;
}

export interface EvalResult {
  /** The opponent's name: a built-in player or the path of a run. */
  vs: string;
  format: string;
  battles: number;
  wins: number;
  losses: number;
  ties: number;
  /** wins / battles (a tie counts as half a win). */
  winRate: number;
  /** Wilson score interval, 95%. */
  ci95: [number, number];
  /** Mean battle length in turns. */
  meanTurns: number;
  seconds: number;
  /** Battles played at once (on each thread). */
  concurrency: number;
  /** Threads that played the battles (1: the calling thread). */
  workers: number;
}

/** Wilson score interval for a proportion (z = 1.96). */
export function wilson(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The policy's logits for `rows` rows of features, in one forward pass (row-major, ACTION_COUNT per row). */
export function policyLogits(model: LayersModel, features: Float32Array, rows: number): Float32Array {
  // Read outside tidy: tidy walks whatever its callback returns, element by element for a typed array.
  const logits = tf.tidy(() => forward(model, tf.tensor2d(features, [rows, FEATURE_SIZE])));
  try {
    return logits.dataSync() as Float32Array;
  } finally {
    logits.dispose();
  }
}

/** The legal action with the highest logit (the first on a tie, as tf.argMax); -1 if none is legal. */
export function legalArgmax(logits: Float32Array, offset: number, mask: Uint8Array): number {
  let best = -1;
  for (let a = 0; a < ACTION_COUNT; a++) if (mask[a] && (best < 0 || logits[offset + a]! > logits[offset + best]!)) best = a;
  return best;
}

/** A policy agent: argmax of the model's logits over the legal actions, one decision or many at a time. */
export function policyAgent(model: LayersModel): PolicyAgent {
  const inputSize = (model.inputs[0]?.shape[1] ?? FEATURE_SIZE) as number;
  const outputSize = (model.outputs[0]?.shape[1] ?? ACTION_COUNT) as number;
  if (inputSize !== FEATURE_SIZE || outputSize !== ACTION_COUNT) {
    throw new UserError(`the policy takes ${inputSize} features and gives ${outputSize} actions; @poke/showdown needs ${FEATURE_SIZE} and ${ACTION_COUNT}`, 'train it on showdown data (data.source: showdown or poke data generate)');
  }
  const chooseBatch = (features: Float32Array, masks: readonly Uint8Array[]): number[] => {
    const logits = policyLogits(model, features, masks.length);
    return masks.map((mask, r) => legalArgmax(logits, r * ACTION_COUNT, mask));
  };
  return { kind: 'policy', chooseBatch, choose: (features, mask) => chooseBatch(features, [mask])[0]! };
}

/** Counts a match's outcomes as its battles end, and reports each one. */
export class MatchTally {
  private wins = 0;
  private losses = 0;
  private turns = 0;
  private done = 0;
  private readonly started = performance.now();

  constructor(private readonly options: MatchOptions) {}

  add(index: number, winner: SideID | null, turns: number): void {
    const result = outcomeOf(index, winner);
    if (result === 'win') this.wins++;
    else if (result === 'loss') this.losses++;
    this.turns += turns;
    this.options.onResult?.(index, { result, turns });
    this.options.onBattle?.(++this.done, this.options.battles);
  }

  /** The match's result. Sums of whole numbers: the same whatever order the battles ended in. */
  result(vs: string, concurrency: number, workers: number): EvalResult {
    const { battles } = this.options;
    const ties = battles - this.wins - this.losses;
    const score = this.wins + ties / 2;
    return {
      vs,
      format: this.options.format ?? 'gen9randombattle',
      battles,
      wins: this.wins,
      losses: this.losses,
      ties,
      winRate: battles ? score / battles : 0,
      ci95: wilson(score, battles),
      meanTurns: battles ? this.turns / battles : 0,
      seconds: (performance.now() - this.started) / 1000,
      concurrency,
      workers,
    };
  }
}

/**
 * Play `battles` battles of A against B in this thread, sides and seeds balanced: battle pair k
 * uses one seed (teams and every roll) twice, A as p1 then A as p2, so neither side nor team
 * favours either player. An odd count plays the last seed once, A as p1.
 */
export function playMatch(a: AgentFor, b: AgentFor, vs: string, options: MatchOptions): EvalResult {
  const format = options.format ?? 'gen9randombattle';
  const seed = options.seed ?? 1;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const tally = new MatchTally(options);
  playBattles(options.battles, (i) => matchBattle(i, a, b, format, seed), concurrency, (i, result) => tally.add(i, result.winner, result.turns));
  return tally.result(vs, concurrency, 1);
}

/** Play `battles` battles of the policy against a built-in opponent (sides balanced, see playMatch). */
export function evaluatePolicy(agent: Agent, options: EvalOptions): EvalResult {
  return playMatch(() => agent, builtinFor(options.vs, options.seed ?? 1, 'opponent'), options.vs, options);
}

/**
 * The checkpoint folder a path names: a checkpoint itself, a run's `checkpoints/`
 * folder or a run folder (its best checkpoint, else its latest).
 */
export async function resolveCheckpoint(path: string): Promise<{ checkpoint: string; runDir?: string }> {
  const abs = resolve(path);
  for (const [dir, runDir] of [[join(abs, 'checkpoints'), abs], [abs, undefined]] as const) {
    if (!existsSync(join(dir, MANIFEST_FILE))) continue;
    const manifest = await readManifest(dir);
    const id = manifest?.best ?? manifest?.latest;
    if (!id) throw new UserError(`${path} has no checkpoint yet`);
    return { checkpoint: join(dir, id), ...(runDir ? { runDir } : {}) };
  }
  if (existsSync(join(abs, METADATA_FILE))) return { checkpoint: abs };
  throw new UserError(notAPolicy(path, abs));
}

/** Why `path` holds no policy: what it is instead. */
function notAPolicy(path: string, abs: string): string {
  const builtins = `built-in players: ${OPPONENTS.join(', ')}`;
  if (!existsSync(abs)) return `${path} does not exist (${builtins})`;
  if (!statSync(abs).isDirectory()) return `${path} is a file, not a run folder or a checkpoint folder`;
  if (existsSync(join(abs, 'run.json'))) return `${path} is a run folder without checkpoints (no checkpoints/${MANIFEST_FILE}): train it with the checkpoint plugin`;
  return `${path} is neither a run folder (with checkpoints/${MANIFEST_FILE}) nor a checkpoint folder (with ${METADATA_FILE})`;
}

export async function loadPolicy(path: string): Promise<{ model: LayersModel; checkpoint: string; runDir?: string }> {
  const found = await resolveCheckpoint(path);
  try {
    return { model: await loadPolicyModel(found.checkpoint), ...found };
  } catch (err) {
    throw new UserError(`cannot load a policy from ${found.checkpoint}: ${(err as Error).message}`);
  }
}
