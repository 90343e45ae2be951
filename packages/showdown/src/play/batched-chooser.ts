/**
 * A policy's choices for many battles at once: decisions that arrive in the same turn of the
 * event loop (a server sends each battle's request in its own message, and several battles'
 * messages are often read together) are answered in one forward pass, on the next turn.
 * Each decision's features are encoded when it is asked, before its battle's view moves on.
 */
import { encode } from '../encoder/encode.js';
import { answerAll } from '../batch.js';
import type { PolicyAgent, PolicyQuestion } from '../battle.js';
import type { Chooser } from './session.js';

interface Asked {
  question: PolicyQuestion;
  resolve: (action: number) => void;
  reject: (error: unknown) => void;
}

/** Rows per forward pass so far, for a summary: `passes` forward passes answered `decisions` decisions. */
export interface BatchStats {
  passes: number;
  decisions: number;
}

export function batchedChooser(agent: PolicyAgent, stats: BatchStats = { passes: 0, decisions: 0 }): Chooser {
  let asked: Asked[] = [];
  const answer = () => {
    const due = asked;
    asked = [];
    try {
      const actions = answerAll(due.map((a) => a.question));
      stats.passes++;
      stats.decisions += due.length;
      due.forEach((a, r) => a.resolve(actions[r]!));
    } catch (err) {
      for (const a of due) a.reject(err);
    }
  };
  return (view, mask) => {
    // Encoded now: the view is the battle's, and its next lines change it.
    const question: PolicyQuestion = { agent, side: view.side, features: encode(view), mask };
    return new Promise<number>((resolve, reject) => {
      if (!asked.length) setImmediate(answer);
      asked.push({ question, resolve, reject });
    });
  };
}
