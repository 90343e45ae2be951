/**
 * Many battles in one thread, their policy decisions answered together: each round every
 * running battle runs until it owes a choice, the questions are gathered in battle order
 * (p1 before p2 within a battle) and each policy answers all of its own in one forward pass.
 * A battle's seeds come from its index alone and a policy's answer to a row does not depend
 * on the other rows, so each battle plays out the same whatever the concurrency.
 */
import { FEATURE_SIZE } from './encoder/layout.js';
import { battleSteps } from './battle.js';
import type { BattleOptions, BattleResult, PolicyAgent, PolicyQuestion } from './battle.js';

/** Battles run at once by default: enough rows per forward pass to amortise it, little memory. */
export const DEFAULT_CONCURRENCY = 32;

interface Running {
  index: number;
  steps: Generator<PolicyQuestion[], BattleResult, number[]>;
  questions: PolicyQuestion[];
}

/**
 * The battles one thread has in play: each runs until it owes policy choices or ends. A driver
 * starts battles, reads the questions of all of them (battle order, p1 before p2 within a battle)
 * and resumes them all with the answers, in that order. A battle that throws is named in the error.
 */
export class BattlePool {
  private running: Running[] = [];

  constructor(
    private readonly battle: (index: number) => BattleOptions,
    private readonly onResult: (index: number, result: BattleResult) => void,
  ) {}

  /** Battles in play, each owing at least one answer. */
  get size(): number {
    return this.running.length;
  }

  /** Start battle `index` (after those in play: the gathering order is the starting order). */
  start(index: number): void {
    const started = this.advance(index, undefined);
    if (started) this.running.push(started);
  }

  /** The questions every battle in play owes, in battle order. */
  questions(): PolicyQuestion[] {
    return this.running.flatMap((r) => r.questions);
  }

  /** Resume every battle in play with its answers (`answers` in the order of `questions()`). */
  resume(answers: readonly number[]): void {
    let at = 0;
    this.running = this.running.flatMap((r) => this.advance(r.index, r, answers.slice(at, (at += r.questions.length))) ?? []);
  }

  private advance(index: number, running: Running | undefined, answers?: number[]): Running | undefined {
    let steps = running?.steps;
    let step: IteratorResult<PolicyQuestion[], BattleResult>;
    try {
      steps ??= battleSteps(this.battle(index));
      step = answers ? steps.next(answers) : steps.next();
    } catch (err) {
      throw new Error(`battle ${index} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!step.done) return { index, steps, questions: step.value };
    this.onResult(index, step.value);
    return undefined;
  }
}

/** Answer every question with its policy, one `chooseBatch` per policy (questions in the order given). */
export function answerAll(questions: readonly PolicyQuestion[]): number[] {
  const answers = new Array<number>(questions.length);
  const byAgent = new Map<PolicyAgent, number[]>();
  questions.forEach((q, i) => {
    const rows = byAgent.get(q.agent);
    if (rows) rows.push(i);
    else byAgent.set(q.agent, [i]);
  });
  for (const [agent, rows] of byAgent) {
    if (!agent.chooseBatch) {
      for (const i of rows) answers[i] = agent.choose(questions[i]!.features, questions[i]!.mask);
      continue;
    }
    const features = new Float32Array(rows.length * FEATURE_SIZE);
    rows.forEach((i, r) => features.set(questions[i]!.features, r * FEATURE_SIZE));
    const chosen = agent.chooseBatch(features, rows.map((i) => questions[i]!.mask));
    rows.forEach((i, r) => (answers[i] = chosen[r]!));
  }
  return answers;
}

/**
 * Play battles 0..count-1 (`battle(i)` gives each one's options), `concurrency` at a time;
 * `onResult` gets each battle as it ends (in the order they end, which is itself fixed).
 */
export function playBattles(count: number, battle: (index: number) => BattleOptions, concurrency: number, onResult: (index: number, result: BattleResult) => void): void {
  const pool = new BattlePool(battle, onResult);
  let next = 0;
  for (;;) {
    while (pool.size < concurrency && next < count) pool.start(next++);
    if (!pool.size) return;
    pool.resume(answerAll(pool.questions()));
  }
}
