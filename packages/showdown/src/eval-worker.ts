/**
 * An eval worker thread: plays the battles the driver hands it, in lanes (see EvalTurn), and
 * sends the driver a lane's policy questions each round (see eval-messages.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BattlePool } from './batch.js';
import { builtinFor, matchBattle } from './match.js';
import type { AgentFor } from './match.js';
import type { PolicyAgent } from './battle.js';
import { packQuestions } from './eval-messages.js';
import type { EvalJob, EvalReport, EvalTurn, WorkerSide } from './eval-messages.js';

const job = workerData as EvalJob;
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

const a = sideOf(job.a);
const b = sideOf(job.b);
let ended: Extract<EvalReport, { type: 'round' }>['ended'] = [];
const lanes = new Map<number, BattlePool>();
const laneOf = (lane: number) => {
  let pool = lanes.get(lane);
  if (!pool) lanes.set(lane, (pool = new BattlePool((i) => matchBattle(i, a, b, job.format, job.seed), (index, result) => ended.push({ index, winner: result.winner, turns: result.turns }))));
  return pool;
};

function report(message: EvalReport, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

parentPort!.on('message', (turn: EvalTurn) => {
  try {
    const pool = laneOf(turn.lane);
    if (pool.size) pool.resume(turn.answers);
    for (const index of turn.start) pool.start(index);
    const questions = packQuestions(pool.questions(), (agent) => policyIds.get(agent)!);
    report({ type: 'round', lane: turn.lane, ended, questions, running: pool.size }, [questions.features.buffer as ArrayBuffer, questions.masks.buffer as ArrayBuffer]);
    ended = [];
  } catch (err) {
    report({ type: 'error', message: (err as Error).message });
  }
});
