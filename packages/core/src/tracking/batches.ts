import type { SpoolLine } from './spool.js';

/** What one request of a sender carries, or what it passes over; `end` is the spool offset just past it. */
export type DeliveryUnit<E> =
  /** Records, with the entries streamed among them, in one request. */
  | { kind: 'batch'; entries: E[]; skipped: number; end: number }
  /** An entry that goes in a request of its own: the run and its config, a status, files. */
  | { kind: 'single'; entry: E; end: number }
  /** Entries the server has already: nothing is sent, and the progress moves past them. */
  | { kind: 'skip'; skipped: number; end: number };

/** How a tracker's entries share requests. */
export interface BatchRules<E> {
  /** The highest record step the server has. */
  highest: number;
  /** A record's step (a metrics row); undefined for any other entry. */
  stepOf(entry: E): number | undefined;
  /** An entry other than a record that travels in the records' requests (W&B's system metrics and console lines). @default none */
  streamed?(entry: E): boolean;
  /** What an entry adds to a request, counted against `maxSize`. @default 1 */
  size?(entry: E): number;
  /** The most a request holds; a single entry larger than that goes alone. */
  maxSize: number;
  /** An entry other than a record that the server got already (records are sent again after it lost them, nothing else is). @default none */
  passed?(entry: E, end: number): boolean;
}

/**
 * Group spool entries into requests, in spool order. Consecutive records share a
 * request up to `maxSize`; any other entry goes alone and closes the request
 * before it. A record at or below the highest step the server has is never sent:
 * the server has it (sent before a resume, or before a lost answer), and a
 * tracker whose steps only increase would drop it anyway. A pure function: the
 * sender carries out the answer.
 */
export function batchEntries<E>(lines: readonly SpoolLine<E>[], rules: BatchRules<E>): DeliveryUnit<E>[] {
  const units: DeliveryUnit<E>[] = [];
  let batch: Extract<DeliveryUnit<E>, { kind: 'batch' }> | undefined;
  let size = 0;
  let highest = rules.highest;
  const close = () => {
    if (batch) units.push(batch);
    batch = undefined;
    size = 0;
  };
  for (const { entry, end } of lines) {
    const step = rules.stepOf(entry);
    if (step === undefined && rules.passed?.(entry, end)) {
      close();
      units.push({ kind: 'skip', skipped: 0, end });
    } else if (step === undefined && !rules.streamed?.(entry)) {
      close();
      units.push({ kind: 'single', entry, end });
    } else if (step !== undefined && step <= highest) {
      if (batch) {
        batch.skipped++;
        batch.end = end;
      } else units.push({ kind: 'skip', skipped: 1, end });
    } else {
      const weight = rules.size?.(entry) ?? 1;
      if (batch && size + weight > rules.maxSize) close();
      batch ??= { kind: 'batch', entries: [], skipped: 0, end };
      batch.entries.push(entry);
      batch.end = end;
      size += weight;
      if (step !== undefined) highest = step;
    }
  }
  close();
  return units;
}
