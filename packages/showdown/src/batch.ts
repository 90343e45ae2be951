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
  let running: Running[] = [];
  let next = 0;
  const advance = (index: number, steps: Running['steps'], answers?: number[]): Running | undefined => {
    const step = answers ? steps.next(answers) : steps.next();
    if (!step.done) return { index, steps, questions: step.value };
    onResult(index, step.value);
    return undefined;
  };
  for (;;) {
    // Started in index order and kept in it: the gathering order below is the battles' order.
    while (running.length < concurrency && next < count) {
      const index = next++;
      const started = advance(index, battleSteps(battle(index)));
      if (started) running.push(started);
    }
    if (!running.length) return;
    const answers = answerAll(running.flatMap((r) => r.questions));
    let at = 0;
    running = running.flatMap((r) => {
      const mine = answers.slice(at, (at += r.questions.length));
      return advance(r.index, r.steps, mine) ?? [];
    });
  }
}
