import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UserError, deriveSeed, predictActions } from '@poke/core';
import { loadPolicyModel, readManifest, MANIFEST_FILE } from '@poke/plugin-checkpoint';
import { builtinAgent, playBattle } from './battle.js';
import type { Agent } from './battle.js';
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
  onBattle?: (done: number, total: number) => void;
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

/** A policy agent: argmax of the model's logits over the legal actions. */
export function policyAgent(model: LayersModel): Agent & { kind: 'policy' } {
  const inputSize = (model.inputs[0]?.shape[1] ?? FEATURE_SIZE) as number;
  const outputSize = (model.outputs[0]?.shape[1] ?? ACTION_COUNT) as number;
  if (inputSize !== FEATURE_SIZE || outputSize !== ACTION_COUNT) {
    throw new UserError(`the policy takes ${inputSize} features and gives ${outputSize} actions; @poke/showdown needs ${FEATURE_SIZE} and ${ACTION_COUNT}`, 'train it on showdown data (data.source: showdown or poke data generate)');
  }
  return {
    kind: 'policy',
    choose(features, mask) {
      return tf.tidy(() => {
        const x = tf.tensor2d(features, [1, FEATURE_SIZE]);
        const m = tf.tensor2d(Float32Array.from(mask), [1, ACTION_COUNT]);
        return predictActions(model, x, m).dataSync()[0]!;
      });
    },
  };
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
  let wins = 0;
  let losses = 0;
  let turns = 0;
  for (let i = 0; i < options.battles; i++) {
    const pair = Math.floor(i / 2);
    const aSide = i % 2 === 0 ? 'p1' : 'p2';
    const [p1, p2] = aSide === 'p1' ? [a(pair), b(pair)] : [b(pair), a(pair)];
    const result = playBattle({ format, seed: deriveSeed(seed, 'eval', pair), p1, p2, record: [] });
    if (result.winner === aSide) wins++;
    else if (result.winner) losses++;
    turns += result.turns;
    options.onBattle?.(i + 1, options.battles);
  }
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
