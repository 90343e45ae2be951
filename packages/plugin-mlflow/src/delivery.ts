import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@poke/core';
import { MlflowClient, MlflowError, LIMITS } from './client.js';
import type { Metric, KeyValue } from './client.js';
import { readDelivered, writeDelivered, writeRunFile } from './spool.js';
import type { Spool, SpoolEntry, RunFile, Delivered, ReadEntry } from './spool.js';

export interface DeliveryOptions {
  /** Gather entries this long before a request, so steps go in batches. @default 1000 */
  flushIntervalMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxBackoffMs?: number;
  /** Per request. @default 15000 */
  requestTimeoutMs?: number;
  /** Prefix of every message. @default "mlflow" */
  label?: string;
  /** The URI to talk to, credentials included; @default the run file's trackingUri */
  trackingUri?: string;
}

export interface DeliveryStats {
  /** Metrics entries (records) sent, and the values in them. */
  records: number;
  metrics: number;
  /** Metrics entries not sent because the server already has their step. */
  skipped: number;
  params: number;
  tags: number;
  statuses: number;
  artifactFiles: number;
}

export interface DrainResult {
  /** Entries left in the spool, undelivered. */
  pendingEntries: number;
  pendingRecords: number;
  /** Why delivery is stuck, when it is. */
  lastError: string | undefined;
}

type Unit =
  | { kind: 'metrics'; entries: Array<Extract<SpoolEntry, { t: 'metrics' }>>; skipped: number; end: number }
  | { kind: 'single'; entry: Exclude<SpoolEntry, { t: 'metrics' }>; end: number }
  | { kind: 'skip'; skipped: number; end: number };

function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]).finally(() => clearTimeout(timer));
}

/**
 * Sends the spool to the server in order, in the background: creates the run
 * when it does not exist yet, batches metrics within MLflow's limits, retries
 * with exponential backoff and full jitter, and records how far it got in
 * delivered.json after every request, so nothing is sent twice.
 * Used by the plugin while training and by `poke mlflow sync` afterwards.
 */
export class Delivery {
  readonly stats: DeliveryStats = { records: 0, metrics: 0, skipped: 0, params: 0, tags: 0, statuses: 0, artifactFiles: 0 };
  readonly client: MlflowClient;
  private readonly abort = new AbortController();
  private readonly label: string;
  private readonly flushIntervalMs: number;
  private readonly maxBackoffMs: number;
  private loopPromise: Promise<void> | undefined;
  private wakeResolve: () => void = () => {};
  private wakePromise: Promise<void>;
  private hurryResolve: () => void = () => {};
  /** Resolves when drain() or stop() wants everything now: cuts the gathering pause short. */
  private readonly hurry = new Promise<void>((resolve) => (this.hurryResolve = resolve));
  private stoppingResolve: () => void = () => {};
  /** Resolves when stop() is called: cuts a backoff pause short. */
  private readonly stopping = new Promise<void>((resolve) => (this.stoppingResolve = resolve));
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private urgent = false;
  private reconciled = false;
  private serverParams: Map<string, string> | undefined;
  private outage: string | undefined;
  private attempt = 0;
  private fatal: string | undefined;
  private lastError: string | undefined;
  private readonly warnedOnce = new Set<string>();

  private constructor(
    readonly dir: string,
    readonly spool: Spool,
    public run: RunFile,
    public delivered: Delivered,
    private readonly logger: Logger,
    options: DeliveryOptions,
  ) {
    this.label = options.label ?? 'mlflow';
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.client = new MlflowClient(options.trackingUri ?? run.trackingUri, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.abort.signal });
    this.wakePromise = this.newWake();
  }

  static async open(dir: string, spool: Spool, run: RunFile, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    const delivered = await readDelivered(dir);
    // A spool rewritten shorter than the recorded offset (edited by hand): start over; the step filter still prevents duplicates.
    if (delivered.offset > spool.size) delivered.offset = 0;
    return new Delivery(dir, spool, run, delivered, logger, options);
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
      pendingRecords: pending.filter((p) => p.entry.t === 'metrics' && p.entry.step > this.delivered.step).length,
      lastError: this.fatal ?? this.lastError,
    };
  }

  /** Stop at once: an unfinished request is abandoned (and checked for before it is sent again). */
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
        if (this.outage) this.logger.info(`${this.label}: ${this.client.uri} reachable again; delivery resumed`);
        this.outage = undefined;
        this.lastError = undefined;
        this.attempt = 0;
      } catch (err) {
        if (this.stopped) break;
        const message = (err as Error).message;
        this.lastError = message;
        if (err instanceof MlflowError && err.retryable) {
          if (err.ambiguous) this.reconciled = false;
          if (!this.outage) {
            this.logger.warn(
              `${this.label}: cannot reach ${this.client.uri} (${message}); records are kept in ${this.spool.path} and retried with backoff, training goes on`,
            );
          }
          this.outage = message;
          this.attempt++;
          const cap = Math.min(this.maxBackoffMs, 500 * 2 ** Math.min(this.attempt, 20));
          const wait = Math.max(50, Math.random() * (this.urgent ? Math.min(cap, 1000) : cap));
          await sleep(wait, this.stopping);
        } else {
          this.fatal = message;
          this.logger.warn(`${this.label}: delivery stopped: ${message}; records stay in ${this.spool.path} (send them later with \`poke mlflow sync\`)`);
        }
      }
    }
    this.settleIdle();
  }

  private async ensureRun(): Promise<void> {
    if (this.run.runId && this.run.artifactUri) return;
    try {
      if (this.run.runId) {
        const existing = await this.client.getRun(this.run.runId);
        this.run = { ...this.run, artifactUri: existing.info.artifact_uri, experimentId: existing.info.experiment_id };
      } else {
        const experimentId = await this.client.ensureExperiment(this.run.experiment);
        const created = await this.client.createRun({ experimentId, runName: this.run.runName, startTime: this.run.startTime });
        this.run = { ...this.run, experimentId, runId: created.info.run_id, artifactUri: created.info.artifact_uri };
        this.reconciled = true; // a new run holds nothing yet
        this.logger.info(`${this.label}: run ${created.info.run_id} in experiment "${this.run.experiment}" at ${this.client.uri}`);
      }
    } catch (err) {
      if (err instanceof MlflowError && !err.retryable) throw new MlflowError(`cannot open the MLflow run: ${err.message}`, err.status, err.errorCode, false, false);
      throw err;
    }
    await writeRunFile(this.dir, this.run);
  }

  /** The highest step the server has: after a lost answer or a crash, the spool may be ahead of delivered.json. */
  private async reconcile(): Promise<void> {
    const run = await this.client.getRun(this.run.runId!);
    const latest = Math.max(-1, ...(run.data.metrics ?? []).map((m) => Number(m.step)));
    if (latest > this.delivered.step) this.delivered = { ...this.delivered, step: latest };
    this.serverParams = new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
    this.reconciled = true;
  }

  private async deliverAvailable(): Promise<void> {
    await this.ensureRun();
    while (!this.stopped && this.pendingBytes > 0) {
      if (!this.reconciled) await this.reconcile();
      const entries = await this.spool.read(this.delivered.offset);
      if (entries.length === 0) {
        // only a partial line (being written, or cut by a crash): nothing to send yet
        return;
      }
      for (const unit of this.units(entries)) {
        if (this.stopped) return;
        await this.send(unit);
        this.delivered = {
          offset: unit.end,
          step: unit.kind === 'metrics' ? Math.max(this.delivered.step, ...unit.entries.map((e) => e.step)) : this.delivered.step,
        };
        await writeDelivered(this.dir, this.delivered);
      }
    }
  }

  /** Group entries into requests: consecutive metrics entries share a log-batch of at most 1000 values. */
  private units(entries: ReadEntry[]): Unit[] {
    const units: Unit[] = [];
    let batch: Extract<Unit, { kind: 'metrics' }> | undefined;
    let batchSize = 0;
    let highest = this.delivered.step;
    const close = () => {
      if (batch) units.push(batch);
      batch = undefined;
      batchSize = 0;
    };
    for (const { entry, end } of entries) {
      if (entry.t !== 'metrics') {
        close();
        units.push({ kind: 'single', entry, end });
        continue;
      }
      if (entry.step <= highest) {
        // already on the server (sent before a resume, or before a lost answer)
        if (batch) {
          batch.skipped++;
          batch.end = end;
        } else units.push({ kind: 'skip', skipped: 1, end });
        continue;
      }
      const size = Object.keys(entry.m).length;
      if (batch && batchSize + size > LIMITS.metricsPerBatch) close();
      batch ??= { kind: 'metrics', entries: [], skipped: 0, end };
      batch.entries.push(entry);
      batch.end = end;
      batchSize += size;
      highest = entry.step;
    }
    close();
    return units;
  }

  private async send(unit: Unit): Promise<void> {
    if (unit.kind === 'skip') {
      this.stats.skipped += unit.skipped;
      return;
    }
    try {
      if (unit.kind === 'metrics') await this.sendMetrics(unit);
      else await this.sendSingle(unit.entry);
    } catch (err) {
      if (!(err instanceof MlflowError) || err.retryable || err.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw err;
      // The server refuses this entry: retrying cannot help. Say so once and go on with the rest.
      const what = unit.kind === 'metrics' ? 'metrics' : unit.entry.t;
      this.warnOnce(`refused:${what}:${err.errorCode}`, `${this.label}: the server refused ${what} (${err.message}); skipped`);
    }
  }

  private async sendMetrics(unit: Extract<Unit, { kind: 'metrics' }>): Promise<void> {
    const metrics: Metric[] = unit.entries.flatMap((e) => Object.entries(e.m).map(([key, value]) => ({ key, value, timestamp: e.ts, step: e.step })));
    // Several records share a request; only a record with more than 1000 values needs more than one.
    for (let i = 0; i < metrics.length; i += LIMITS.metricsPerBatch) {
      await this.client.logBatch(this.run.runId!, { metrics: metrics.slice(i, i + LIMITS.metricsPerBatch) });
    }
    this.stats.records += unit.entries.length;
    this.stats.metrics += metrics.length;
    this.stats.skipped += unit.skipped;
  }

  private async sendSingle(entry: Exclude<SpoolEntry, { t: 'metrics' }>): Promise<void> {
    const runId = this.run.runId!;
    switch (entry.t) {
      case 'params': {
        if (!this.serverParams) await this.reconcile();
        const known = this.serverParams!;
        const fresh: KeyValue[] = [];
        const changed: string[] = [];
        for (const [key, value] of Object.entries(entry.params)) {
          const old = known.get(key);
          if (old === undefined) fresh.push({ key, value });
          else if (old !== value) changed.push(`${key} (${old} → ${value})`);
        }
        if (changed.length) {
          this.warnOnce(`changed:${changed.join()}`, `${this.label}: params changed since the run was created, MLflow keeps the first value: ${changed.join(', ')}`);
        }
        for (let i = 0; i < fresh.length; i += LIMITS.paramsPerBatch) {
          const chunk = fresh.slice(i, i + LIMITS.paramsPerBatch);
          await this.client.logBatch(runId, { params: chunk });
          for (const p of chunk) known.set(p.key, p.value);
          this.stats.params += chunk.length;
        }
        return;
      }
      case 'tags': {
        const tags = Object.entries(entry.tags).map(([key, value]) => ({ key, value }));
        for (let i = 0; i < tags.length; i += LIMITS.tagsPerBatch) {
          const chunk = tags.slice(i, i + LIMITS.tagsPerBatch);
          await this.client.logBatch(runId, { tags: chunk });
          this.stats.tags += chunk.length;
        }
        return;
      }
      case 'status': {
        await this.client.updateRun(runId, { status: entry.status, ...(entry.status === 'RUNNING' ? {} : { endTime: entry.ts }) });
        this.stats.statuses++;
        return;
      }
      case 'artifacts': {
        const files = await this.checkpointFiles(entry.dir);
        if (!files) {
          this.logger.warn(`${this.label}: checkpoint ${entry.id} is gone from ${entry.dir} (pruned?); not uploaded`);
          return;
        }
        for (const name of files) {
          const data = await readFile(join(entry.dir, name));
          await this.client.uploadArtifact(this.run.artifactUri!, `${entry.path}/${name}`, data);
          this.stats.artifactFiles++;
        }
        if (entry.best) {
          await this.client.logBatch(runId, { tags: [{ key: 'poke.best_checkpoint', value: entry.id }] });
          this.stats.tags++;
        }
        return;
      }
    }
  }

  private async checkpointFiles(dir: string): Promise<string[] | undefined> {
    try {
      const names = (await readdir(dir)).sort();
      const files: string[] = [];
      for (const name of names) if ((await stat(join(dir, name))).isFile()) files.push(name);
      return files;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.logger.warn(message);
  }
}
