import { join } from 'node:path';
import type { Logger } from '../logger.js';
import type { Spool, SpoolLine } from './spool.js';
import type { SpoolProgress } from './progress.js';
import { SpoolSender } from './sender.js';
import { batchEntries } from './batches.js';
import type { BatchRules, DeliveryUnit } from './batches.js';

/** The progress of a tracker whose records carry steps. */
export interface TrackerProgress extends SpoolProgress {
  /** Highest record step on the server; a record at or below it is never sent. */
  step: number;
}

/** What every tracker's delivery counts. */
export interface TrackerStats {
  /** Records not sent because the server already has their step. */
  skipped: number;
}

/** Options every tracker's delivery takes; a tracker adds its own. */
export interface TrackerDeliveryOptions {
  /** A round of requests starts at most once per this interval. @default 1000 */
  flushIntervalMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxBackoffMs?: number;
  /** Per request. @default 15000 */
  requestTimeoutMs?: number;
  /** Prefix of every message. @default the tracker's id */
  label?: string;
}

export interface DrainResult {
  /** Entries left in the spool, undelivered. */
  pendingEntries: number;
  /** Records among them that the server does not have. */
  pendingRecords: number;
  /** Why delivery is stuck, when it is. */
  lastError: string | undefined;
}

/**
 * A tracker's sender: SpoolSender with the batching every tracker shares
 * (batches.ts), the skipped-record count, the highest delivered step and the
 * drain at the end of a run. A tracker says what a record is and how a request
 * goes over the wire (`sendBatch`, `sendEntry`), and what its server is.
 */
export abstract class TrackerDelivery<E, P extends TrackerProgress, S extends TrackerStats> extends SpoolSender<E, P, DeliveryUnit<E>> {
  abstract readonly stats: S;

  constructor(
    /** The tracker's folder in the run folder. */
    readonly dir: string,
    spool: Spool<E>,
    /** The tracker's id (`wandb`) and the progress file in `dir`. */
    names: { id: string; progress: string },
    delivered: P,
    logger: Logger,
    options: TrackerDeliveryOptions,
  ) {
    super(spool, join(dir, names.progress), delivered, logger, {
      label: options.label ?? names.id,
      syncCommand: `poke ${names.id} sync`,
      flushIntervalMs: options.flushIntervalMs,
      maxBackoffMs: options.maxBackoffMs,
    });
  }

  /** The server as messages name it, without credentials. */
  abstract override get target(): string;

  /** A record's step; undefined for an entry that is not a record. */
  protected abstract stepOf(entry: E): number | undefined;

  /** How entries share requests, apart from the steps (see BatchRules). */
  protected abstract batchRules(): Omit<BatchRules<E>, 'highest' | 'stepOf'>;

  /** One request with these records and the entries streamed among them. */
  protected abstract sendBatch(entries: E[]): Promise<void>;

  /** One entry that goes alone; `end` is the offset just past it. */
  protected abstract sendEntry(entry: E, end: number): Promise<void>;

  /** Deliver everything now, for at most `timeoutMs`; then stop. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const { pending, lastError } = await this.flush(timeoutMs);
    const records = pending.filter((p) => (this.stepOf(p.entry) ?? -Infinity) > this.delivered.step);
    return { pendingEntries: pending.length, pendingRecords: records.length, lastError };
  }

  protected batches(lines: SpoolLine<E>[]): DeliveryUnit<E>[] {
    return batchEntries(lines, { ...this.batchRules(), highest: this.delivered.step, stepOf: (entry) => this.stepOf(entry) });
  }

  protected async send(unit: DeliveryUnit<E>): Promise<void> {
    if (unit.kind === 'single') return this.sendEntry(unit.entry, unit.end);
    if (unit.kind === 'batch') await this.sendBatch(unit.entries);
    this.stats.skipped += unit.skipped;
  }

  protected advance(delivered: P, unit: DeliveryUnit<E>): P {
    if (unit.kind !== 'batch') return delivered;
    const steps = unit.entries.flatMap((entry) => this.stepOf(entry) ?? []);
    return { ...delivered, step: Math.max(delivered.step, ...steps) };
  }
}
