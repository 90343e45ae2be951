import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrackerDelivery } from '@poke/core';
import type { Logger, BatchRules, DeliveryUnit, TrackerDeliveryOptions, TrackerStats } from '@poke/core';
import { MlflowClient, MlflowError, LIMITS } from './client.js';
import type { Metric, KeyValue } from './client.js';
import { MLFLOW_FILES, writeRunFile } from './spool.js';
import type { Spool, SpoolEntry, RunFile, Delivered } from './spool.js';

export interface DeliveryOptions extends TrackerDeliveryOptions {
  /** The URI to talk to, credentials included; @default the run file's trackingUri */
  trackingUri?: string;
}

export interface DeliveryStats extends TrackerStats {
  /** Metrics entries (records) sent, and the values in them. */
  records: number;
  metrics: number;
  params: number;
  tags: number;
  statuses: number;
  artifactFiles: number;
}

type Metrics = Extract<SpoolEntry, { t: 'metrics' }>;

/**
 * Sends the spool to the server in order, in the background (TrackerDelivery does
 * the reading, retrying and progress): creates the run when it does not exist
 * yet, batches metrics within MLflow's limits, and never sends a step the
 * server has. Used by the plugin while training and by `poke mlflow sync` afterwards.
 */
export class Delivery extends TrackerDelivery<SpoolEntry, Delivered, DeliveryStats> {
  readonly stats: DeliveryStats = { records: 0, metrics: 0, skipped: 0, params: 0, tags: 0, statuses: 0, artifactFiles: 0 };
  readonly client: MlflowClient;
  private reconciled = false;
  private serverParams: Map<string, string> | undefined;
  private readonly warnedOnce = new Set<string>();

  private constructor(dir: string, spool: Spool, public run: RunFile, delivered: Delivered, logger: Logger, options: DeliveryOptions) {
    super(dir, spool, MLFLOW_FILES.names, delivered, logger, options);
    this.client = new MlflowClient(options.trackingUri ?? run.trackingUri, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.signal });
  }

  static async open(dir: string, spool: Spool, run: RunFile, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    // A spool sent again from its start sends no step twice: the server's highest step is asked first.
    return new Delivery(dir, spool, run, await MLFLOW_FILES.startingProgress(dir, spool, logger), logger, options);
  }

  get target(): string {
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

  protected stepOf(entry: SpoolEntry): number | undefined {
    return entry.t === 'metrics' ? entry.step : undefined;
  }

  /** Consecutive metrics entries share a log-batch of at most 1000 values. */
  protected batchRules(): Omit<BatchRules<SpoolEntry>, 'highest' | 'stepOf'> {
    return { size: (entry) => (entry.t === 'metrics' ? Object.keys(entry.m).length : 1), maxSize: LIMITS.metricsPerBatch };
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

  protected override async send(unit: DeliveryUnit<SpoolEntry>): Promise<void> {
    try {
      await super.send(unit);
    } catch (err) {
      // A lost answer: the request may have arrived, so ask the server what it has before sending again.
      if (err instanceof MlflowError && err.ambiguous) this.reconciled = false;
      if (!(err instanceof MlflowError) || err.retryable || err.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw err;
      // The server refuses this entry: retrying cannot help. Say so once and go on with the rest.
      const what = unit.kind === 'single' ? unit.entry.t : 'metrics';
      this.warnOnce(`refused:${what}:${err.errorCode}`, `${this.label}: the server refused ${what} (${err.message}); skipped`);
    }
  }

  /** Several records share a request; only a record with more than 1000 values needs more than one. */
  protected async sendBatch(entries: SpoolEntry[]): Promise<void> {
    const records = entries as Metrics[];
    const metrics: Metric[] = records.flatMap((e) => Object.entries(e.m).map(([key, value]) => ({ key, value, timestamp: e.ts, step: e.step })));
    for (let i = 0; i < metrics.length; i += LIMITS.metricsPerBatch) {
      await this.client.logBatch(this.run.runId!, { metrics: metrics.slice(i, i + LIMITS.metricsPerBatch) });
    }
    this.stats.records += records.length;
    this.stats.metrics += metrics.length;
  }

  protected async sendEntry(entry: SpoolEntry): Promise<void> {
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
