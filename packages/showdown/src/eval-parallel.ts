/**
 * A match over worker threads: each worker runs the simulator and the feature encoder for its
 * share of the battles, and this thread answers the policies' questions of all workers, one
 * forward pass per policy for whatever questions have come in. Battles are handed out by index
 * as workers make room, and a battle's seeds and answers depend on its index alone, so the
 * outcomes are those of playMatch whatever the number of workers.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_CONCURRENCY } from './batch.js';
import type { Agent, PolicyAgent } from './battle.js';
import { MatchTally, builtinFor, playMatch, policyFor } from './eval.js';
import type { EvalOptions, EvalResult, MatchOptions } from './eval.js';
import type { AgentFor, PortableSide } from './match.js';
import type { EvalJob, WorkerSide } from './eval-messages.js';
import { EvalWorkers } from './eval-workers.js';

export interface ParallelOptions {
  /**
   * worker_threads that play the battles (`concurrency` at a time each); 1 plays them on this
   * thread, as do sides without a `portable` description. @default os.availableParallelism()
   */
  workers?: number;
  /**
   * Threads to play on, kept from match to match (a matrix of pairs starts them once); the caller
   * closes them. Without it, `workers` threads are started for this match and ended after it.
   */
  pool?: EvalWorkers;
}

/** The worker threads a match of `battles` plays on: `workers` (default all cores), never more than the battles. */
export function workerCount(workers: number | undefined, battles: number): number {
  return Math.max(1, Math.min(workers ?? availableParallelism(), battles));
}

/** playMatch over worker threads (see ParallelOptions.workers); the same outcomes, battle by battle. */
export async function playMatchParallel(a: AgentFor, b: AgentFor, vs: string, options: MatchOptions & ParallelOptions): Promise<EvalResult> {
  const workers = options.pool?.count ?? workerCount(options.workers, options.battles);
  if (workers === 1 || !a.portable || !b.portable) return playMatch(a, b, vs, options);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const policies: PolicyAgent[] = [];
  const sideFor = (side: PortableSide): WorkerSide => {
    if (side.kind === 'builtin') return side;
    if (!policies.includes(side.agent)) policies.push(side.agent);
    return { kind: 'policy', id: policies.indexOf(side.agent) };
  };
  const job: EvalJob = { format: options.format ?? 'gen9randombattle', seed: options.seed ?? 1, a: sideFor(a.portable), b: sideFor(b.portable) };
  const tally = new MatchTally(options);
  const pool = options.pool ?? new EvalWorkers(workers);
  try {
    await pool.play(job, concurrency, policies, options.battles, tally);
  } finally {
    if (!options.pool) await pool.close();
  }
  return tally.result(vs, concurrency, workers);
}

/** evaluatePolicy over worker threads when the agent is a policy (see playMatchParallel). */
export async function evaluatePolicyParallel(agent: Agent, options: EvalOptions & ParallelOptions): Promise<EvalResult> {
  const player = agent.kind === 'policy' ? policyFor(agent) : () => agent;
  return playMatchParallel(player, builtinFor(options.vs, options.seed ?? 1, 'opponent'), options.vs, options);
}
