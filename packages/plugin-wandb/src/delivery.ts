import { join } from 'node:path';
import { SpoolSender } from '@poke/core';
import type { Logger } from '@poke/core';
import { WandbClient, WandbError } from './client.js';
import type { UpsertVars } from './client.js';
import { readDelivered, writeRunFile, STATE_FILE } from './spool.js';
import type { Spool, SpoolEntry, RunFile, Delivered, ReadEntry } from './spool.js';

export interface DeliveryOptions {
  /** Gather entries this long before a request, so steps go in batches. @default 1000 */
  flushIntervalMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxBackoffMs?: number;
  /** Per request. @default 15000 */
  requestTimeoutMs?: number;
  /** Prefix of every message. @default "wandb" */
  label?: string;
  /** Most history rows in one file_stream request. @default 500 */
  maxRows?: number;
}

export interface DeliveryStats {
  /** History rows sent. */
  rows: number;
  /** History entries not sent because the server already has their step. */
  skipped: number;
  /** UpsertBucket calls (run and config). */
  upserts: number;
  summaries: number;
  finishes: number;
}

export interface DrainResult {
  /** Entries left in the spool, undelivered. */
  pendingEntries: number;
  /** History rows among them that the server does not have. */
  pendingRows: number;
  /** Why delivery is stuck, when it is. */
  lastError: string | undefined;
}

type History = Extract<SpoolEntry, { t: 'history' }>;
type Unit =
  | { kind: 'history'; entries: History[]; skipped: number; end: number }
  | { kind: 'single'; entry: Exclude<SpoolEntry, { t: 'history' }>; end: number }
  | { kind: 'skip'; skipped: number; end: number };

/** W&B's config format: every top-level key as `{ value, desc }`. */
export function wandbConfig(config: Record<string, unknown>): Record<string, { value: unknown; desc: null }> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value, desc: null }]));
}

/**
 * Sends the spool to W&B in order, in the background (SpoolSender does the
 * reading, retrying and progress): upserts the run, streams history rows with
 * explicit line offsets (a resent request overwrites the same lines, never
 * adds), the summary and the exit code. Used by the plugin while training and
 * by `poke wandb sync` afterwards.
 */
export class Delivery extends SpoolSender<SpoolEntry, Delivered, Unit> {
  readonly stats: DeliveryStats = { rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0 };
  readonly client: WandbClient;
  private readonly label: string;
  private readonly maxRows: number;

  private constructor(
    readonly dir: string,
    spool: Spool,
    public run: RunFile,
    delivered: Delivered,
    apiKey: string | undefined,
    logger: Logger,
    options: DeliveryOptions,
  ) {
    const label = options.label ?? 'wandb';
    super(spool, join(dir, STATE_FILE), delivered, logger, {
      label,
      syncCommand: 'poke wandb sync',
      flushIntervalMs: options.flushIntervalMs,
      maxBackoffMs: options.maxBackoffMs,
    });
    this.label = label;
    this.maxRows = options.maxRows ?? 500;
    this.client = new WandbClient(run.baseUrl, apiKey, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.signal });
  }

  static async open(dir: string, spool: Spool, run: RunFile, apiKey: string | undefined, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    const delivered = await readDelivered(dir);
    if (delivered.offset > spool.size) {
      // The spool is shorter than what state.json says was delivered (edited by hand): resend it all.
      // Line offsets start again at 0, so what the server has is overwritten, not doubled.
      logger.warn(`wandb: ${spool.path} is shorter than ${dir}/state.json says was delivered; sending it all again`);
      delivered.offset = 0;
      delivered.lines = 0;
      delivered.step = -1;
    }
    return new Delivery(dir, spool, run, delivered, apiKey, logger, options);
  }

  /** Deliver everything now, for at most `timeoutMs`; then stop. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const { pending, lastError } = await this.flush(timeoutMs);
    return {
      pendingEntries: pending.length,
      pendingRows: pending.filter((p) => p.entry.t === 'history' && p.entry.step > this.delivered.step).length,
      lastError,
    };
  }

  protected get target(): string {
    return this.client.baseUrl;
  }

  /** An outage: no connection, a timeout, 408, 429 or 5xx. */
  protected retryable(err: unknown): boolean {
    return err instanceof WandbError && err.retryable;
  }

  protected async prepare(): Promise<void> {
    await this.ensureEntity();
  }

  protected advance(delivered: Delivered, unit: Unit): Delivered {
    if (unit.kind !== 'history') return delivered;
    return { ...delivered, step: Math.max(delivered.step, ...unit.entries.map((e) => e.step)), lines: delivered.lines + unit.entries.length };
  }

  /** The entity is needed in every file_stream path; without one in the options, ask whose key this is. */
  private async ensureEntity(): Promise<string> {
    if (this.run.entity) return this.run.entity;
    const { entity } = await this.client.viewer();
    if (!entity) throw new WandbError('the server named no default entity for this API key; set the `entity` option', undefined, false);
    this.run = { ...this.run, entity };
    await writeRunFile(this.dir, this.run);
    return entity;
  }

  /** Consecutive history entries share a request; entries at or below the highest delivered step are skipped. */
  protected batches(entries: ReadEntry[]): Unit[] {
    const units: Unit[] = [];
    let batch: Extract<Unit, { kind: 'history' }> | undefined;
    let highest = this.delivered.step;
    const close = () => {
      if (batch) units.push(batch);
      batch = undefined;
    };
    for (const { entry, end } of entries) {
      if (entry.t !== 'history') {
        close();
        units.push({ kind: 'single', entry, end });
        continue;
      }
      if (entry.step <= highest) {
        // the server has this step already (sent before a resume): W&B would drop it as a non-increasing step
        if (batch) {
          batch.skipped++;
          batch.end = end;
        } else units.push({ kind: 'skip', skipped: 1, end });
        continue;
      }
      if (batch && batch.entries.length >= this.maxRows) close();
      batch ??= { kind: 'history', entries: [], skipped: 0, end };
      batch.entries.push(entry);
      batch.end = end;
      highest = entry.step;
    }
    close();
    return units;
  }

  protected async send(unit: Unit): Promise<void> {
    const { run } = this;
    const entity = run.entity!;
    if (unit.kind === 'skip') {
      this.stats.skipped += unit.skipped;
      return;
    }
    if (unit.kind === 'history') {
      await this.client.fileStream(entity, run.project, run.id, {
        files: { 'wandb-history.jsonl': { offset: this.delivered.lines, content: unit.entries.map((e) => JSON.stringify(e.row)) } },
      });
      this.stats.rows += unit.entries.length;
      this.stats.skipped += unit.skipped;
      return;
    }
    const { entry } = unit;
    switch (entry.t) {
      case 'run': {
        const vars: UpsertVars = {
          name: run.id,
          project: run.project,
          entity,
          displayName: entry.displayName,
          tags: entry.tags,
          config: JSON.stringify(wandbConfig(entry.config)),
          jobType: 'train',
          program: 'poke train',
          ...(entry.group ? { groupName: entry.group } : {}),
          ...(entry.notes ? { notes: entry.notes } : {}),
        };
        const bucket = await this.client.upsertBucket(vars);
        if (this.stats.upserts === 0) this.logger.info(`${this.label}: run ${entity}/${run.project}/${bucket.name} at ${this.client.baseUrl}`);
        this.stats.upserts++;
        return;
      }
      case 'summary':
        await this.client.fileStream(entity, run.project, run.id, {
          files: { 'wandb-summary.json': { offset: 0, content: [JSON.stringify(entry.summary)] } },
        });
        this.stats.summaries++;
        return;
      case 'finish':
        await this.client.fileStream(entity, run.project, run.id, { complete: true, exitcode: entry.exitcode });
        this.stats.finishes++;
        return;
    }
  }
}
