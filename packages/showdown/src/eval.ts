import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UserError } from '@poke/core';
import { deriveSeed, forward } from '@poke/core/internal';
import { loadPolicyModel, readManifest, MANIFEST_FILE } from '@poke/plugin-checkpoint';
import { builtinAgent } from './battle.js';
import type { Agent, PolicyAgent } from './battle.js';
import { DEFAULT_CONCURRENCY, playBattles } from './batch.js';
import { ACTION_COUNT } from './actions.js';
import { FEATURE_SIZE } from './encoder/layout.js';
import type { Opponent } from './generate.js';

export interface EvalOptions {
  vs: Opponent;
  battles: number;
  /** @default "gen9randombattle" */
  format?: string;
  /** @default 1 */
  seed?: number;
  /** Battles played at once, their policy decisions answered in one forward pass. @default 32 */
  concurrency?: number;
  onBattle?: (done: number, total: number) => void;
}

/** A side of a match: the agent that plays battle pair `k` (built-in players get a seed per pair). */
export type AgentFor = (pair: number) => Agent;

export interface MatchOptions {
  battles: number;
  /** @default "gen9randombattle" */
  format?: string;
  /** @default 1 */
  seed?: number;
  /** Battles played at once, their policy decisions answered in one forward pass. @default 32 */
  concurrency?: number;
  onBattle?: (done: number, total: number) => void;
  /** Each battle's outcome for player A, by battle index (called in the order battles end). */
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
  /** Battles played at once. */
  concurrency: number;
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
  return tf.tidy(() => forward(model, tf.tensor2d(features, [rows, FEATURE_SIZE])).dataSync() as Float32Array);
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

/** A built-in player as one side of a match, seeded per battle pair (`role` keeps the two sides' seeds apart). */
export function builtinFor(name: Opponent, seed: number, role: 'player' | 'opponent'): AgentFor {
  return (pair) => builtinAgent(name, deriveSeed(seed, `eval-${role}`, pair));
}

/**
 * Play `battles` battles of A against B, sides and seeds balanced: battle pair k uses one
 * seed (teams and every roll) twice, A as p1 then A as p2, so neither side nor team favours
 * either player. An odd count plays the last seed once, A as p1.
 */
export function playMatch(a: AgentFor, b: AgentFor, vs: string, options: MatchOptions): EvalResult {
  const started = performance.now();
  const format = options.format ?? 'gen9randombattle';
  const seed = options.seed ?? 1;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const aSideOf = (i: number) => (i % 2 === 0 ? 'p1' : 'p2');
  let wins = 0;
  let losses = 0;
  let turns = 0;
  let done = 0;
  const battle = (i: number) => {
    const pair = Math.floor(i / 2);
    const [p1, p2] = aSideOf(i) === 'p1' ? [a(pair), b(pair)] : [b(pair), a(pair)];
    return { format, seed: deriveSeed(seed, 'eval', pair), p1, p2, record: [] };
  };
  playBattles(options.battles, battle, concurrency, (i, result) => {
    const outcome = result.winner === aSideOf(i) ? 'win' : result.winner ? 'loss' : 'tie';
    if (outcome === 'win') wins++;
    else if (outcome === 'loss') losses++;
    turns += result.turns;
    options.onResult?.(i, { result: outcome, turns: result.turns });
    options.onBattle?.(++done, options.battles);
  });
  const ties = options.battles - wins - losses;
  const score = wins + ties / 2;
  return {
    vs,
    format,
    battles: options.battles,
    wins,
    losses,
    ties,
    winRate: options.battles ? score / options.battles : 0,
    ci95: wilson(score, options.battles),
    meanTurns: options.battles ? turns / options.battles : 0,
    seconds: (performance.now() - started) / 1000,
    concurrency,
  };
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
  if (existsSync(abs)) return { checkpoint: abs };
  throw new UserError(`${path} is neither a run folder nor a checkpoint`);
}

export async function loadPolicy(path: string): Promise<{ model: LayersModel; checkpoint: string; runDir?: string }> {
  const found = await resolveCheckpoint(path);
  try {
    return { model: await loadPolicyModel(found.checkpoint), ...found };
  } catch (err) {
    throw new UserError(`cannot load a policy from ${found.checkpoint}: ${(err as Error).message}`);
  }
}
