/**
 * The worker threads of eval, kept from match to match: a thread takes a while to load the
 * simulator, so a matrix of pairs starts them once. One match plays at a time.
 */
import { Worker } from 'node:worker_threads';
import { answerAll } from './batch.js';
import type { PolicyAgent } from './battle.js';
import type { MatchTally } from './eval.js';
import { unpackQuestions } from './eval-messages.js';
import type { EvalCommand, EvalJob, EvalReport, EvalTurn, PackedQuestions } from './eval-messages.js';
import { workerUrl } from './worker-url.js';

interface Round {
  worker: number;
  lane: number;
  questions: PackedQuestions;
  running: number;
}

/** The match in play: what the threads' reports go to. */
interface Match {
  report(worker: number, report: EvalReport): void;
  fail(error: Error): void;
}

/** A worker's lanes: two halves of its concurrency (one lane at concurrency 1), so it plays one while the other waits for answers. */
function laneSizes(concurrency: number): number[] {
  return concurrency > 1 ? [Math.ceil(concurrency / 2), Math.floor(concurrency / 2)] : [1];
}

export class EvalWorkers {
  private threads: Worker[] = [];
  /** Threads this side is ending: their exit is no failure. */
  private readonly ending = new WeakSet<Worker>();
  private match: Match | undefined;

  /** `count` threads, started by the first match. Close them when done: they keep the process alive. */
  constructor(readonly count: number) {}

  /**
   * Play battles 0..battles-1 of `job`; resolves once every battle has ended. On the first failure
   * every thread is ended and the promise rejects; the next match starts new threads.
   */
  play(job: EvalJob, concurrency: number, policies: readonly PolicyAgent[], battles: number, tally: MatchTally): Promise<void> {
    if (this.match) return Promise.reject(new Error('poke eval: one match at a time on the same worker threads'));
    this.start();
    return new Promise<void>((resolve, reject) => {
      const threads = this.threads;
      const count = threads.length;
      const lanes = laneSizes(concurrency);
      const openLanes = new Array<number>(count).fill(lanes.length);
      let done = 0;
      let next = 0;
      let rounds: Round[] = [];
      let checking = false;
      const take = (n: number) => {
        const start: number[] = [];
        while (start.length < n && next < battles) start.push(next++);
        return start;
      };
      const send = (w: number, turn: EvalTurn) => threads[w]!.postMessage({ type: 'turn', ...turn } satisfies EvalCommand);
      const finish = (error?: Error) => {
        this.match = undefined;
        if (error) reject(error);
        else resolve();
      };
      const fail = (error: Error) => {
        if (this.match !== match) return;
        this.match = undefined;
        void this.close().then(() => finish(error));
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
        if (this.match !== match) return;
        try {
          const answers = answerAll(due.flatMap((r) => unpackQuestions(r.questions, policies)));
          let at = 0;
          for (const r of due) {
            const turn: EvalTurn = { lane: r.lane, answers: answers.slice(at, (at += r.questions.policies.length)), start: take(lanes[r.lane]! - r.running) };
            if (r.running || turn.start.length) send(r.worker, turn);
            else if (--openLanes[r.worker]! === 0) done++;
          }
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (done === count) finish();
      };
      const report = (w: number, message: EvalReport) => {
        if (message.type === 'error') return fail(new Error(`poke eval: ${message.message}`));
        try {
          for (const e of message.ended) tally.add(e.index, e.winner, e.turns);
        } catch (err) {
          return fail(err as Error);
        }
        if (!checking) {
          checking = true;
          setImmediate(check);
        }
        rounds.push({ worker: w, lane: message.lane, questions: message.questions, running: message.running });
      };
      const match: Match = { report, fail };
      this.match = match;
      for (const thread of threads) thread.postMessage({ type: 'match', job } satisfies EvalCommand);
      // The first battles are spread evenly over the lanes, so a short match still uses every worker.
      const firsts = lanes.flatMap((size, lane) => threads.map((_, w) => ({ w, lane, size })));
      firsts.forEach(({ w, lane, size }, k) => send(w, { lane, answers: [], start: take(Math.min(size, Math.ceil((battles - next) / (firsts.length - k)))) }));
    });
  }

  /** End every thread (a match in play fails). Safe to call twice. */
  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const thread of threads) this.ending.add(thread);
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private start(): void {
    while (this.threads.length < this.count) {
      const w = this.threads.length;
      const thread = new Worker(workerUrl('eval-worker', import.meta.url));
      thread.on('message', (report: EvalReport) => this.match?.report(w, report));
      thread.on('error', (err) => this.failed(new Error(`poke eval: a worker thread failed: ${err.message}`, { cause: err })));
      thread.on('exit', (code) => {
        if (!this.ending.has(thread)) this.failed(new Error(`poke eval: a worker thread exited (code ${code}) before its battles ended`));
      });
      this.threads.push(thread);
    }
  }

  /** A thread failed: the match in play fails; between matches, the threads are ended and the next match starts new ones. */
  private failed(error: Error): void {
    if (this.match) this.match.fail(error);
    else void this.close();
  }
}
