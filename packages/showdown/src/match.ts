/**
 * What a match's battle is, from its index alone: its seed, who plays which side and how its
 * winner reads for player A. Shared by the one-thread driver and the eval worker threads, so
 * this module stays free of the policy's tensors.
 */
import { deriveSeed } from '@poke/core/light';
import { builtinAgent } from './battle.js';
import type { Agent, BattleOptions, PolicyAgent } from './battle.js';
import type { SideID } from './encoder/view.js';
import type { Opponent } from './generate.js';

/**
 * A side that a worker thread can play: a built-in player, rebuilt there from its name and seed,
 * or a policy, whose decisions the worker sends back to be answered where the model lives.
 */
export type PortableSide =
  | { kind: 'builtin'; name: Opponent; seed: number; role: 'player' | 'opponent' }
  | { kind: 'policy'; agent: PolicyAgent };

/**
 * A side of a match: the agent that plays battle pair `k` (built-in players get a seed per pair).
 * `portable` says how a worker thread can play it; a side without it is played on the calling thread.
 */
export type AgentFor = ((pair: number) => Agent) & { readonly portable?: PortableSide };

/** A built-in player as one side of a match, seeded per battle pair (`role` keeps the two sides' seeds apart). */
export function builtinFor(name: Opponent, seed: number, role: 'player' | 'opponent'): AgentFor {
  const portable: PortableSide = { kind: 'builtin', name, seed, role };
  return Object.assign((pair: number) => builtinAgent(name, deriveSeed(seed, `eval-${role}`, pair)), { portable });
}

/** A policy as one side of a match, the same agent in every battle. */
export function policyFor(agent: PolicyAgent): AgentFor {
  const portable: PortableSide = { kind: 'policy', agent };
  return Object.assign(() => agent, { portable });
}

/** Player A's side in battle `i`: p1 in even battles, p2 in odd ones (each pair plays its seed from both sides). */
export function aSideOf(i: number): SideID {
  return i % 2 === 0 ? 'p1' : 'p2';
}

/** Battle `i` of a match of A against B: pair ⌊i/2⌋'s seed and agents, A on aSideOf(i). */
export function matchBattle(i: number, a: AgentFor, b: AgentFor, format: string, seed: number): BattleOptions {
  const pair = Math.floor(i / 2);
  const [p1, p2] = aSideOf(i) === 'p1' ? [a(pair), b(pair)] : [b(pair), a(pair)];
  return { format, seed: deriveSeed(seed, 'eval', pair), p1, p2, record: [] };
}

/** Battle `i`'s outcome for player A. */
export function outcomeOf(i: number, winner: SideID | null): 'win' | 'loss' | 'tie' {
  return winner === aSideOf(i) ? 'win' : winner ? 'loss' : 'tie';
}
