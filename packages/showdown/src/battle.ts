import { Rng, deriveSeed } from '@poke/core/light';
import { ACTION_COUNT, choiceOf, maskFromRequest, needsDecision } from './actions.js';
import type { SimRequest } from './actions.js';
import { PlayerView, channelLines } from './encoder/view.js';
import type { SideID } from './encoder/view.js';
import { encode } from './encoder/encode.js';
import { FEATURE_SIZE } from './encoder/layout.js';
import { expertAction } from './expert.js';
import { heuristicAction, maxPowerAction, randomAction } from './baselines.js';
import { Battle } from './sim.js';

/** Who plays a side. A `policy` gets the encoded features and the mask and returns an action. */
export type Agent =
  | { kind: 'expert' }
  | { kind: 'random' | 'maxpower' | 'heuristic'; seed: number }
  | PolicyAgent;

/**
 * A trained policy. `chooseBatch` answers many decisions in one forward pass: `features` holds
 * `masks.length` rows of FEATURE_SIZE, and row i's action must not depend on the other rows.
 */
export interface PolicyAgent {
  kind: 'policy';
  choose(features: Float32Array, mask: Uint8Array): number;
  chooseBatch?(features: Float32Array, masks: readonly Uint8Array[]): number[];
}

/** The built-in players, by name; `seed` drives their random choices (the expert has none). */
export function builtinAgent(name: 'random' | 'maxpower' | 'heuristic' | 'expert', seed: number): Agent {
  return name === 'expert' ? { kind: 'expert' } : { kind: name, seed };
}

/** The action of a built-in or policy agent for the view's current request. */
export function agentAction(agent: Agent, view: PlayerView | undefined, mask: Uint8Array, rng: Rng | undefined, features?: Float32Array): number {
  switch (agent.kind) {
    case 'expert':
      return expertAction(view!, mask);
    case 'random':
      return randomAction(rng!, mask);
    case 'maxpower':
      return maxPowerAction(view!, mask, rng!);
    case 'heuristic':
      return heuristicAction(view!, mask, rng!);
    case 'policy':
      return agent.choose(features ?? encode(view!), mask);
  }
}

/** A decision a policy side owes: the driver answers it with an action. */
export interface PolicyQuestion {
  agent: PolicyAgent;
  side: SideID;
  features: Float32Array;
  mask: Uint8Array;
}

export interface Decision {
  side: SideID;
  /** Which of this side's requests (1-based, waits included) the decision answered: identifies it in the battle. */
  rqid: number;
  features: Float32Array;
  mask: Uint8Array;
  action: number;
}

export interface BattleResult {
  winner: SideID | null;
  turns: number;
  /** Recorded decisions (of expert sides, or all sides listed in `record`), in the order they were made. */
  decisions: Decision[];
  /** The battle's protocol text as the omniscient stream (and saved replays) hold it, without timestamps. */
  log?: string;
  /** What each player received: its channel's lines with its `|request|` lines after them. */
  playerLogs?: Record<SideID, string>;
}

export interface BattleOptions {
  format: string;
  /** 32-bit seed of the battle (teams and every roll). */
  seed: number;
  p1: Agent;
  p2: Agent;
  /** Record decisions of these sides. @default the expert sides */
  record?: SideID[];
  keepLog?: boolean;
  /** The battle is called a tie after this many turns. @default 500 */
  maxTurns?: number;
  /** Players also get teams given here (tests); otherwise the format generates them. */
  teams?: Partial<Record<SideID, string>>;
}

const NAMES: Record<SideID, string> = { p1: 'poke-p1', p2: 'poke-p2' };

function simSeed(seed: number): string {
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `gen5,${hex(deriveSeed(seed, 'sim', 0))}${hex(deriveSeed(seed, 'sim', 1))}`;
}

/** Play one battle in-process, synchronously, recording decisions; a policy side is asked one decision at a time. */
export function playBattle(options: BattleOptions): BattleResult {
  const steps = battleSteps(options);
  let step = steps.next();
  while (!step.done) step = steps.next(step.value.map((q) => q.agent.choose(q.features, q.mask)));
  return step.value;
}

/**
 * One battle as a generator: it runs the simulator until the policy sides owe a choice,
 * yields their questions (p1 before p2) and resumes with their actions, in the same order.
 * Built-in sides are answered inside. So a driver can hold many battles and answer all
 * their questions with one forward pass (see batch.ts).
 */
export function* battleSteps(options: BattleOptions): Generator<PolicyQuestion[], BattleResult, number[]> {
  const record = new Set<SideID>(options.record ?? (['p1', 'p2'] as const).filter((s) => options[s].kind === 'expert'));
  const keepLog = options.keepLog ?? false;
  const agents: Record<SideID, Agent> = { p1: options.p1, p2: options.p2 };
  const rngs: Partial<Record<SideID, Rng>> = {};
  const views: Partial<Record<SideID, PlayerView>> = {};
  const playerLogs: Record<SideID, string[]> = { p1: [], p2: [] };
  for (const side of ['p1', 'p2'] as const) {
    const agent = agents[side];
    if ('seed' in agent) rngs[side] = Rng.fromSeed(agent.seed);
    if (agent.kind !== 'random' || record.has(side) || keepLog) views[side] = new PlayerView(side);
  }
  const updates: string[] = [];
  const requests: Partial<Record<SideID, SimRequest>> = {};
  const omniscient: string[] = [];
  const decisions: Decision[] = [];
  const requestCount = { p1: 0, p2: 0 };

  const battle = new Battle({
    formatid: options.format as never,
    seed: simSeed(options.seed) as never,
    send: (type: string, data: string | string[]) => {
      const text = Array.isArray(data) ? data.join('\n') : data;
      if (type === 'update') updates.push(text);
      else if (type === 'sideupdate') {
        const side = text.slice(0, 2) as SideID;
        const body = text.slice(3);
        if (body.startsWith('|request|')) requests[side] = JSON.parse(body.slice(9)) as SimRequest;
      }
    },
  });
  // Each side's random team comes from its own seed (without one the simulator draws a random team).
  for (const side of ['p1', 'p2'] as const) {
    const team = options.teams?.[side];
    battle.setPlayer(side, { name: NAMES[side], ...(team ? { team } : { seed: simSeed(deriveSeed(options.seed, 'team', side)) as never }) });
  }
  battle.sendUpdates();

  const maxTurns = options.maxTurns ?? 500;
  for (let guard = 0; guard < 100_000; guard++) {
    // The turn's protocol first, then the requests it led to (the order the client applies them).
    for (const chunk of updates.splice(0)) {
      const lines = chunk.split('\n').filter((l) => !l.startsWith('|t:|'));
      if (keepLog) omniscient.push(...channelLines(lines, -1));
      for (const side of ['p1', 'p2'] as const) {
        const view = views[side];
        if (!view) continue;
        const own = channelLines(lines, side);
        view.addLines(own);
        if (keepLog) playerLogs[side].push(...own);
      }
    }
    if (battle.ended) break;
    if (battle.turn > maxTurns) {
      battle.win(null as never);
      continue;
    }
    // `asked`: the index of a policy side's question, whose answer becomes its action.
    const owed: Array<{ side: SideID; rqid: number; features: Float32Array | undefined; mask: Uint8Array; action: number; asked?: number }> = [];
    const questions: PolicyQuestion[] = [];
    for (const side of ['p1', 'p2'] as const) {
      const request = requests[side];
      if (!request) continue;
      delete requests[side];
      const rqid = ++requestCount[side];
      const view = views[side];
      if (view) view.request = request;
      if (keepLog) playerLogs[side].push(`|request|${JSON.stringify(request)}`);
      if (!needsDecision(request)) continue;
      // Its own mask: a policy's question stays open while the other side is asked.
      const mask = maskFromRequest(request, new Uint8Array(ACTION_COUNT));
      const agent = agents[side];
      let features: Float32Array | undefined;
      if (record.has(side) || agent.kind === 'policy') features = encode(view!);
      if (agent.kind === 'policy') {
        owed.push({ side, rqid, features, mask, action: -1, asked: questions.length });
        questions.push({ agent, side, features: features!, mask });
      } else owed.push({ side, rqid, features, mask, action: agentAction(agent, view, mask, rngs[side], features) });
    }
    if (questions.length) {
      const answers = yield questions;
      for (const o of owed) if (o.asked !== undefined) o.action = answers[o.asked] ?? -1;
    }
    const choices: Array<[SideID, string, Decision | undefined]> = [];
    for (const { side, rqid, features, mask, action } of owed) {
      if (action < 0 || !mask[action]) {
        choices.push([side, 'default', undefined]);
        continue;
      }
      const decision = record.has(side) ? { side, rqid, features: features!, mask, action } : undefined;
      choices.push([side, choiceOf(action), decision]);
    }
    if (choices.length === 0) {
      // Nothing to decide and not ended: should not happen; end the battle as a tie rather than loop.
      battle.win(null as never);
      continue;
    }
    for (const [side, choice, decision] of choices) {
      if (battle.choose(side, choice)) {
        if (decision) decisions.push(decision);
      } else {
        // Refused (e.g. a hidden trap): the simulator re-sent the request; let it pick a default instead.
        delete requests[side];
        battle.choose(side, 'default');
      }
    }
    battle.sendUpdates();
  }
  const winner = battle.winner === NAMES.p1 ? 'p1' : battle.winner === NAMES.p2 ? 'p2' : null;
  const result: BattleResult = { winner, turns: battle.turn, decisions };
  if (keepLog) {
    result.log = omniscient.join('\n') + '\n';
    result.playerLogs = { p1: playerLogs.p1.join('\n') + '\n', p2: playerLogs.p2.join('\n') + '\n' };
  }
  battle.destroy();
  return result;
}

export { randomAction };
export { FEATURE_SIZE };
