import type { Delivered } from './spool.js';

/** What RunResumeStatus says the server holds of a run (query_run_resume_status.graphql). */
export interface ServerRun {
  /** History lines (`historyLineCount`): the file_stream offset the next row goes to. */
  lines: number;
  /** `_step` of the last history line (`historyTail`), when there is one. */
  tailStep: number | undefined;
  events: number;
  logs: number;
  tags: string[];
}

/** The history this client sent, in order: the step of each line, and the spool offset just past it. */
export interface SentLine {
  step: number;
  end: number;
}

export type Reconciled =
  /** Local state and the server agree. */
  | { kind: 'agree' }
  /** The server has fewer lines than were sent (it lost some, or the run was deleted): send again from its count. */
  | { kind: 'behind'; delivered: Delivered; missing: number }
  /** The server has more lines than this client sent (state.json lost, or another writer went on): continue after its last step. */
  | { kind: 'ahead'; delivered: Delivered; extra: number }
  /** The server's history is not the one this client sent: sending would corrupt it. */
  | { kind: 'refuse'; reason: string };

/**
 * Decide how to go on from what the server holds, as the SDK does on resume
 * (runbranch/resume.go continues at historyLineCount, after the tail's _step).
 * A pure function: the sender carries out the answer.
 *   behind — the server's lines must be a prefix of what was sent; the rest is sent again.
 *   ahead  — new lines continue at the server's count; no step at or below its
 *            last one is sent (W&B keeps steps increasing, and the SDK drops
 *            such a step too), so a resumed checkpoint older than the server's
 *            history never sends a step twice.
 *   refuse — the server's last step is not this client's step at that line.
 */
export function reconcile(local: Delivered, sent: readonly SentLine[], server: ServerRun | undefined): Reconciled {
  const lines = server?.lines ?? 0;
  const tail = server?.tailStep;
  const atServerEnd = lines > 0 ? sent[lines - 1] : undefined;
  if (lines <= local.lines && lines > 0 && atServerEnd && tail !== undefined && atServerEnd.step !== tail) {
    return { kind: 'refuse', reason: `its history ends at line ${lines} with step ${tail}, where this run sent step ${atServerEnd.step}` };
  }
  if (lines === local.lines) return { kind: 'agree' };
  if (lines < local.lines) {
    const events = Math.min(local.events, server?.events ?? 0);
    const logs = Math.min(local.logs, server?.logs ?? 0);
    if (lines === 0) return { kind: 'behind', delivered: { ...local, offset: 0, step: -1, lines: 0, events, logs }, missing: local.lines };
    if (!atServerEnd) return { kind: 'refuse', reason: `it holds ${lines} history lines, and the local spool does not have as many` };
    return { kind: 'behind', delivered: { ...local, offset: atServerEnd.end, step: atServerEnd.step, lines, events, logs }, missing: local.lines - lines };
  }
  if (tail === undefined || tail <= local.step) {
    return { kind: 'refuse', reason: `it holds ${lines} history lines (more than the ${local.lines} this run sent) ending at step ${tail ?? '?'}, not after this run's step ${local.step}` };
  }
  return {
    kind: 'ahead',
    delivered: { ...local, step: tail, lines, events: Math.max(local.events, server?.events ?? 0), logs: Math.max(local.logs, server?.logs ?? 0) },
    extra: lines - local.lines,
  };
}
