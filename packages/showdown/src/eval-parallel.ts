/**
 * A match over worker threads: each worker runs the simulator and the feature encoder for its
 * share of the battles, and this thread answers the policies' questions of all workers, one
 * forward pass per policy for whatever questions have come in. Battles are handed out by index
 * as workers make room, and a battle's seeds and answers depend on its index alone, so the
 * outcomes are those of playMatch whatever the number of workers.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { DEFAULT_CONCURRENCY, answerAll } from './batch.js';
import type { Agent, PolicyAgent } from './battle.js';
import { MatchTally, builtinFor, playMatch, policyFor } from './eval.js';
import type { EvalOptions, EvalResult, MatchOptions } from './eval.js';
import type { AgentFor, PortableSide } from './match.js';
import { unpackQuestions } from './eval-messages.js';
import type { EvalJob, EvalReport, EvalTurn, PackedQuestions, WorkerSide } from './eval-messages.js';
import { workerUrl } from './worker-url.js';

export interface ParallelOptions {
  /**
   * worker_threads that play the battles (`concurrency` at a time each); 1 plays them on this
   * thread, as do sides without a `portable` description. @default os.availableParallelism()
   */
  workers?: number;
}

/** playMatch over worker threads (see ParallelOptions.workers); the same outcomes, battle by battle. */
export async function playMatchParallel(a: AgentFor, b: AgentFor, vs: string, options: MatchOptions & ParallelOptions): Promise<EvalResult> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), options.battles));
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
  await runWorkers(workers, concurrency, job, policies, options.battles, tally);
  return tally.result(vs, concurrency, workers);
}

/** evaluatePolicy over worker threads when the agent is a policy (see playMatchParallel). */
export async function evaluatePolicyParallel(agent: Agent, options: EvalOptions & ParallelOptions): Promise<EvalResult> {
  const player = agent.kind === 'policy' ? policyFor(agent) : () => agent;
  return playMatchParallel(player, builtinFor(options.vs, options.seed ?? 1, 'opponent'), options.vs, options);
}

interface Round {
  worker: number;
  lane: number;
  questions: PackedQuestions;
  running: number;
}

/** A worker's lanes: two halves of its concurrency (one lane at concurrency 1), so it plays one while the other waits for answers. */
function laneSizes(concurrency: number): number[] {
  return concurrency > 1 ? [Math.ceil(concurrency / 2), Math.floor(concurrency / 2)] : [1];
}

/** Play battles 0..battles-1 on `count` workers; resolves once every worker has ended, rejects (all ended) on the first failure. */
function runWorkers(count: number, concurrency: number, job: EvalJob, policies: readonly PolicyAgent[], battles: number, tally: MatchTally): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const lanes = laneSizes(concurrency);
    const threads: Worker[] = [];
    const ending: Array<Promise<unknown> | undefined> = [];
    const openLanes = new Array<number>(count).fill(lanes.length);
    let next = 0;
    let failed = false;
    let rounds: Round[] = [];
    let checking = false;
    const take = (n: number) => {
      const start: number[] = [];
      while (start.length < n && next < battles) start.push(next++);
      return start;
    };
    const end = (w: number) => (ending[w] ??= threads[w]!.terminate());
    const settle = (error?: Error) => {
      threads.forEach((_, w) => end(w));
      void Promise.all(ending).then(() => (error ? reject(error) : resolve()));
    };
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      settle(error);
    };
    // Questions wait while every worker still has a lane to play, and are then all answered
    // together: one forward pass per policy, as many rows as the workers' lanes gave.
    const check = () => {
      checking = false;
      const waiting = new Array<number>(count).fill(0);
      for (const r of rounds) waiting[r.worker]!++;
      if (waiting.some((n, w) => n > 0 && n >= openLanes[w]!)) answer();
    };
    const answer = () => {
      const due = rounds;
      rounds = [];
      if (failed) return;
      try {
        const answers = answerAll(due.flatMap((r) => unpackQuestions(r.questions, policies)));
        let at = 0;
        for (const r of due) {
          const turn: EvalTurn = { lane: r.lane, answers: answers.slice(at, (at += r.questions.policies.length)), start: take(lanes[r.lane]! - r.running) };
          if (r.running || turn.start.length) threads[r.worker]!.postMessage(turn);
          else if (--openLanes[r.worker]! === 0) end(r.worker);
        }
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (ending.filter(Boolean).length === count) settle();
    };
    const onReport = (w: number, report: EvalReport) => {
      if (failed) return;
      if (report.type === 'error') return fail(new Error(`poke eval: ${report.message}`));
      try {
        for (const e of report.ended) tally.add(e.index, e.winner, e.turns);
      } catch (err) {
        return fail(err as Error);
      }
      if (!checking) {
        checking = true;
        setImmediate(check);
      }
      rounds.push({ worker: w, lane: report.lane, questions: report.questions, running: report.running });
    };
    for (let w = 0; w < count; w++) {
      const thread = new Worker(workerUrl('eval-worker', import.meta.url), { workerData: job });
      threads.push(thread);
      thread.on('message', (report: EvalReport) => onReport(w, report));
      thread.on('error', (err) => fail(new Error(`poke eval: a worker thread failed: ${err.message}`, { cause: err })));
      thread.on('exit', (code) => {
        if (!ending[w]) fail(new Error(`poke eval: a worker thread exited (code ${code}) before its battles ended`));
      });
    }
    // The first battles are spread evenly over the lanes, so a short match still uses every worker.
    const firsts = lanes.flatMap((size, lane) => threads.map((thread) => ({ thread, lane, size })));
    firsts.forEach(({ thread, lane, size }, k) => {
      thread.postMessage({ lane, answers: [], start: take(Math.min(size, Math.ceil((battles - next) / (firsts.length - k)))) } satisfies EvalTurn);
    });
  });
}
