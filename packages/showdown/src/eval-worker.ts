/**
 * An eval worker thread: plays the battles the driver hands it, in lanes (see EvalTurn), and
 * sends the driver a lane's policy questions each round (see eval-messages.ts). It plays one
 * match after another, as the driver starts them.
 */
import { parentPort } from 'node:worker_threads';
import { BattlePool } from './batch.js';
import { builtinFor, matchBattle } from './match.js';
import type { AgentFor } from './match.js';
import type { PolicyAgent } from './battle.js';
import { packQuestions } from './eval-messages.js';
import type { EvalCommand, EvalJob, EvalReport, WorkerSide } from './eval-messages.js';

const policyIds = new Map<PolicyAgent, number>();

const proxies = new Map<number, PolicyAgent>();

/** Policy `id` here: its questions go to the driver, so it is never asked directly. */
function policyProxy(id: number): PolicyAgent {
  let agent = proxies.get(id);
  if (!agent) {
    agent = {
      kind: 'policy',
      choose: () => {
        throw new Error('an eval worker asked a policy directly (a bug in @poke/showdown)');
      },
    };
    proxies.set(id, agent);
    policyIds.set(agent, id);
  }
  return agent;
}

function sideOf(side: WorkerSide): AgentFor {
  if (side.kind === 'builtin') return builtinFor(side.name, side.seed, side.role);
  const agent = policyProxy(side.id);
  return () => agent;
}

/** The match in play: its lanes of battles, made as the driver first uses each. */
function matchOf(job: EvalJob): (lane: number) => BattlePool {
  const a = sideOf(job.a);
  const b = sideOf(job.b);
  const lanes = new Map<number, BattlePool>();
  return (lane) => {
    let pool = lanes.get(lane);
    if (!pool) lanes.set(lane, (pool = new BattlePool((i) => matchBattle(i, a, b, job.format, job.seed), (index, result) => ended.push({ index, winner: result.winner, turns: result.turns }))));
    return pool;
  };
}

let ended: Extract<EvalReport, { type: 'round' }>['ended'] = [];
let laneOf: ((lane: number) => BattlePool) | undefined;

function report(message: EvalReport, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

parentPort!.on('message', (command: EvalCommand) => {
  try {
    if (command.type === 'match') {
      laneOf = matchOf(command.job);
      ended = [];
      return;
    }
    if (!laneOf) throw new Error('an eval worker got a turn before its match (a bug in @poke/showdown)');
    const pool = laneOf(command.lane);
    if (pool.size) pool.resume(command.answers);
    for (const index of command.start) pool.start(index);
    const questions = packQuestions(pool.questions(), (agent) => policyIds.get(agent)!);
    report({ type: 'round', lane: command.lane, ended, questions, running: pool.size }, [questions.features.buffer as ArrayBuffer, questions.masks.buffer as ArrayBuffer]);
    ended = [];
  } catch (err) {
    report({ type: 'error', message: (err as Error).message });
  }
});
