import type { Logger } from '@poke/core';
import { WandbClient, WandbError } from './client.js';
import type { UpsertVars } from './client.js';
import { readDelivered, writeDelivered, writeRunFile } from './spool.js';
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

function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]).finally(() => clearTimeout(timer));
}

/** W&B's config format: every top-level key as `{ value, desc }`. */
export function wandbConfig(config: Record<string, unknown>): Record<string, { value: unknown; desc: null }> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value, desc: null }]));
}

/**
 * Sends the spool to W&B in order, in the background: upserts the run, streams
 * history rows with explicit line offsets (a resent request overwrites the same
 * lines, never adds), the summary and the exit code; retries with exponential
 * backoff and full jitter; records how far it got in state.json after every
 * request. Used by the plugin while training and by `poke wandb sync` afterwards.
 */
export class Delivery {
  readonly stats: DeliveryStats = { rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0 };
  readonly client: WandbClient;
  private readonly abort = new AbortController();
  private readonly label: string;
  private readonly flushIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRows: number;
  private loopPromise: Promise<void> | undefined;
  private wakeResolve: () => void = () => {};
  private wakePromise: Promise<void>;
  private hurryResolve: () => void = () => {};
  private readonly hurry = new Promise<void>((resolve) => (this.hurryResolve = resolve));
  private stoppingResolve: () => void = () => {};
  private readonly stopping = new Promise<void>((resolve) => (this.stoppingResolve = resolve));
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private urgent = false;
  private outage: string | undefined;
  private attempt = 0;
  private fatal: string | undefined;
  private lastError: string | undefined;

  private constructor(
    readonly dir: string,
    readonly spool: Spool,
    public run: RunFile,
    public delivered: Delivered,
    apiKey: string | undefined,
    private readonly logger: Logger,
    options: DeliveryOptions,
  ) {
    this.label = options.label ?? 'wandb';
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxRows = options.maxRows ?? 500;
    this.client = new WandbClient(run.baseUrl, apiKey, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.abort.signal });
    this.wakePromise = this.newWake();
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

  private newWake(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeResolve = resolve));
  }

  /** Something was appended: send it (after the flush interval). */
  notify(): void {
    this.wakeResolve();
  }

  start(): void {
    this.loopPromise ??= this.loop();
  }

  get pendingBytes(): number {
    return this.spool.size - this.delivered.offset;
  }

  /** Deliver everything now, for at most `timeoutMs`; then stop. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.urgent = true;
    this.hurryResolve();
    this.start();
    this.notify();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.stop();
    const pending = await this.spool.read(this.delivered.offset, Number.MAX_SAFE_INTEGER);
    return {
      pendingEntries: pending.length,
      pendingRows: pending.filter((p) => p.entry.t === 'history' && p.entry.step > this.delivered.step).length,
      lastError: this.fatal ?? this.lastError,
    };
  }

  /** Stop at once: an unfinished request is abandoned; it is sent again later with the same offsets. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.hurryResolve();
    this.stoppingResolve();
    this.abort.abort();
    this.notify();
    await this.loopPromise;
  }

  private settleIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.fatal || this.pendingBytes <= 0) {
        this.settleIdle();
        await this.wakePromise;
        this.wakePromise = this.newWake();
        continue;
      }
      if (!this.urgent && this.flushIntervalMs > 0 && this.attempt === 0) {
        await sleep(this.flushIntervalMs, this.hurry);
        if (this.stopped) break;
      }
      try {
        await this.deliverAvailable();
        if (this.outage) this.logger.info(`${this.label}: ${this.client.baseUrl} reachable again; delivery resumed`);
        this.outage = undefined;
        this.lastError = undefined;
        this.attempt = 0;
      } catch (err) {
        if (this.stopped) break;
        const message = (err as Error).message;
        this.lastError = message;
        if (err instanceof WandbError && err.retryable) {
          if (!this.outage) {
            this.logger.warn(
              `${this.label}: cannot reach ${this.client.baseUrl} (${message}); records are kept in ${this.spool.path} and retried with backoff, training goes on`,
            );
          }
          this.outage = message;
          this.attempt++;
          const cap = Math.min(this.maxBackoffMs, 500 * 2 ** Math.min(this.attempt, 20));
          const wait = Math.max(50, Math.random() * (this.urgent ? Math.min(cap, 1000) : cap));
          await sleep(wait, this.stopping);
        } else {
          this.fatal = message;
          this.logger.warn(`${this.label}: delivery stopped: ${message}; records stay in ${this.spool.path} (send them later with \`poke wandb sync\`)`);
        }
      }
    }
    this.settleIdle();
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

  private async deliverAvailable(): Promise<void> {
    await this.ensureEntity();
    while (!this.stopped && this.pendingBytes > 0) {
      const entries = await this.spool.read(this.delivered.offset);
      if (entries.length === 0) return; // only a partial line: nothing to send yet
      for (const unit of this.units(entries)) {
        if (this.stopped) return;
        await this.send(unit);
        this.delivered =
          unit.kind === 'history'
            ? { offset: unit.end, step: Math.max(this.delivered.step, ...unit.entries.map((e) => e.step)), lines: this.delivered.lines + unit.entries.length }
            : { ...this.delivered, offset: unit.end };
        await writeDelivered(this.dir, this.delivered);
      }
    }
  }

  /** Consecutive history entries share a request; entries at or below the highest delivered step are skipped. */
  private units(entries: ReadEntry[]): Unit[] {
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

  private async send(unit: Unit): Promise<void> {
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
