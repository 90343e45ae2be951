/**
 * What the eval driver and its worker threads say to each other. A worker plays battles; its
 * policy sides only stand for the policies, which live on the driver's thread: the worker sends
 * their questions (one buffer of features, one of masks) and gets the actions back.
 */
import { ACTION_COUNT } from './actions.js';
import { FEATURE_SIZE } from './encoder/layout.js';
import { packRows } from './pack-rows.js';
import type { PolicyAgent, PolicyQuestion } from './battle.js';
import type { SideID } from './encoder/view.js';
import type { PortableSide } from './match.js';

/** A side as a worker gets it: a built-in player as such, a policy by its number on the driver. */
export type WorkerSide = Extract<PortableSide, { kind: 'builtin' }> | { kind: 'policy'; id: number };

/** A match, as a worker plays it. */
export interface EvalJob {
  format: string;
  seed: number;
  a: WorkerSide;
  b: WorkerSide;
}

/**
 * Driver → worker: the answers to the questions of one lane (in their order) and battles to start
 * in it. A worker plays its battles in two lanes, so that it plays one while the other's questions
 * are out.
 */
export interface EvalTurn {
  lane: number;
  answers: number[];
  start: number[];
}

/** Driver → worker: a new match (its lanes start empty), or a turn of the match in play. */
export type EvalCommand = { type: 'match'; job: EvalJob } | ({ type: 'turn' } & EvalTurn);

export interface PackedQuestions {
  /** Each question's policy (its number on the driver) and side. */
  policies: number[];
  sides: SideID[];
  /** FEATURE_SIZE values per question. */
  features: Float32Array;
  /** ACTION_COUNT flags per question. */
  masks: Uint8Array;
}

/** Worker → driver: the battles that ended since the last report, then the questions the lane's battles in play owe. */
export type EvalReport =
  | { type: 'round'; lane: number; ended: Array<{ index: number; winner: SideID | null; turns: number }>; questions: PackedQuestions; running: number }
  | { type: 'error'; message: string };

export function packQuestions(questions: readonly PolicyQuestion[], idOf: (agent: PolicyAgent) => number): PackedQuestions {
  return { policies: questions.map((q) => idOf(q.agent)), sides: questions.map((q) => q.side), ...packRows(questions) };
}

export function unpackQuestions(packed: PackedQuestions, policies: readonly PolicyAgent[]): PolicyQuestion[] {
  return packed.policies.map((id, i) => ({
    agent: policies[id]!,
    side: packed.sides[i]!,
    features: packed.features.subarray(i * FEATURE_SIZE, (i + 1) * FEATURE_SIZE),
    mask: packed.masks.subarray(i * ACTION_COUNT, (i + 1) * ACTION_COUNT),
  }));
}
