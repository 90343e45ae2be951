import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolSender } from '@poke/core';
import type { Logger } from '@poke/core';
import { MlflowClient, MlflowError, LIMITS } from './client.js';
import type { Metric, KeyValue } from './client.js';
import { readDelivered, writeRunFile, DELIVERED_FILE } from './spool.js';
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

/**
 * Sends the spool to the server in order, in the background (SpoolSender does
 * the reading, retrying and progress): creates the run when it does not exist
 * yet, batches metrics within MLflow's limits, and never sends a step the
 * server has. Used by the plugin while training and by `poke mlflow sync` afterwards.
 */
export class Delivery extends SpoolSender<SpoolEntry, Delivered, Unit> {
  readonly stats: DeliveryStats = { records: 0, metrics: 0, skipped: 0, params: 0, tags: 0, statuses: 0, artifactFiles: 0 };
  readonly client: MlflowClient;
  private readonly label: string;
  private reconciled = false;
  private serverParams: Map<string, string> | undefined;
  private readonly warnedOnce = new Set<string>();

  private constructor(
    readonly dir: string,
    spool: Spool,
    public run: RunFile,
    delivered: Delivered,
    logger: Logger,
    options: DeliveryOptions,
  ) {
    const label = options.label ?? 'mlflow';
    super(spool, join(dir, DELIVERED_FILE), delivered, logger, {
      label,
      syncCommand: 'poke mlflow sync',
      flushIntervalMs: options.flushIntervalMs,
      maxBackoffMs: options.maxBackoffMs,
    });
    this.label = label;
    this.client = new MlflowClient(options.trackingUri ?? run.trackingUri, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.signal });
  }

  static async open(dir: string, spool: Spool, run: RunFile, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    const delivered = await readDelivered(dir);
    // A spool rewritten shorter than the recorded offset (edited by hand): start over; the step filter still prevents duplicates.
    if (delivered.offset > spool.size) delivered.offset = 0;
    return new Delivery(dir, spool, run, delivered, logger, options);
  }

  /** Deliver everything now, for at most `timeoutMs`; then stop. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const { pending, lastError } = await this.flush(timeoutMs);
    return {
      pendingEntries: pending.length,
      pendingRecords: pending.filter((p) => p.entry.t === 'metrics' && p.entry.step > this.delivered.step).length,
      lastError,
    };
  }

  protected get target(): string {
    return this.client.uri;
  }

  /** An outage: no connection, a timeout, 429 or 5xx. */
  protected retryable(err: unknown): boolean {
    return err instanceof MlflowError && err.retryable;
  }

  protected async prepare(): Promise<void> {
    await this.ensureRun();
    if (!this.reconciled) await this.reconcile();
  }

  protected advance(delivered: Delivered, unit: Unit): Delivered {
    return unit.kind === 'metrics' ? { ...delivered, step: Math.max(delivered.step, ...unit.entries.map((e) => e.step)) } : delivered;
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

  /** Group entries into requests: consecutive metrics entries share a log-batch of at most 1000 values. */
  protected batches(entries: ReadEntry[]): Unit[] {
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

  protected async send(unit: Unit): Promise<void> {
    if (unit.kind === 'skip') {
      this.stats.skipped += unit.skipped;
      return;
    }
    try {
      if (unit.kind === 'metrics') await this.sendMetrics(unit);
      else await this.sendSingle(unit.entry);
    } catch (err) {
      // A lost answer: the request may have arrived, so ask the server what it has before sending again.
      if (err instanceof MlflowError && err.ambiguous) this.reconciled = false;
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
