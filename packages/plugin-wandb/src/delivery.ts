import { join } from 'node:path';
import { TrackerDelivery } from '@poke/core';
import { writeProgress } from '@poke/core/internal';
import type { Logger, BatchRules, DeliveryUnit, TrackerDeliveryOptions, TrackerStats } from '@poke/core';
import { WandbClient, WandbError } from './client.js';
import type { UpsertVars, FileStreamBody } from './client.js';
import { WANDB_FILES, writeRunFile } from './spool.js';
import { reconcile } from './reconcile.js';
import type { ServerRun, SentLine } from './reconcile.js';
import { wandbJson } from './wandb-json.js';
import { derivedFiles, streamedConsoleLine } from './files.js';
import type { Spool, SpoolEntry, RunFile, Delivered } from './spool.js';

export interface DeliveryOptions extends TrackerDeliveryOptions {
  /** Most history rows, system-metrics and console entries in one file_stream request. @default 500 */
  maxRows?: number;
  /** The run is resumed: ask the server what it holds even if nothing was delivered from this spool. */
  resuming?: boolean;
}

export interface DeliveryStats extends TrackerStats {
  /** History rows sent. */
  rows: number;
  /** UpsertBucket calls (run and config). */
  upserts: number;
  summaries: number;
  finishes: number;
  /** System-metrics lines sent. */
  events: number;
  /** Console lines sent. */
  logs: number;
  /** Files uploaded. */
  files: number;
}

type Streamed<T extends SpoolEntry['t']> = Array<Extract<SpoolEntry, { t: T }>>;

/** A file_stream request's entries, by the file they go to. */
function streams(entries: readonly SpoolEntry[]): { history: Streamed<'history'>; events: Streamed<'events'>; console: Streamed<'console'> } {
  const out = { history: [] as Streamed<'history'>, events: [] as Streamed<'events'>, console: [] as Streamed<'console'> };
  for (const entry of entries) {
    if (entry.t === 'history') out.history.push(entry);
    else if (entry.t === 'events') out.events.push(entry);
    else if (entry.t === 'console') out.console.push(entry);
  }
  return out;
}

/** W&B's config format, as the SDK sends it: every top-level key as `{ value }`; a key without a value is left out, as JSON leaves it. */
export function wandbConfig(config: Record<string, unknown>): Record<string, { value: unknown }> {
  return Object.fromEntries(Object.entries(config).flatMap(([key, value]) => (value === undefined ? [] : [[key, { value }]])));
}

/**
 * Sends the spool to W&B in order, in the background (TrackerDelivery does the
 * reading, batching, retrying and progress): upserts the run, streams history rows,
 * system metrics and console lines with explicit line offsets (a resent
 * request overwrites the same lines, never adds), uploads the run's files, the
 * summary and the exit code. Before writing to a run it sent to before, it asks
 * the server what it holds (RunResumeStatus) and goes on from there
 * (reconcile.ts). Used by the plugin while training and by `poke wandb sync`.
 */
export class Delivery extends TrackerDelivery<SpoolEntry, Delivered, DeliveryStats> {
  readonly stats: DeliveryStats = { rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0, events: 0, logs: 0, files: 0 };
  readonly client: WandbClient;
  private readonly maxRows: number;
  private readonly resuming: boolean;
  private checked = false;
  /** The server holds this run: later upserts leave its name and tags as they are. Its id and tags, once asked. */
  private existing: { id: string | null; tags: string[] | null } | undefined;
  /** Entries before this offset were delivered once; when history is sent again, only its rows are. */
  private replayUntil = 0;

  private constructor(dir: string, spool: Spool, public run: RunFile, delivered: Delivered, apiKey: string | undefined, logger: Logger, options: DeliveryOptions) {
    super(dir, spool, WANDB_FILES.names, delivered, logger, options);
    this.maxRows = options.maxRows ?? 500;
    this.resuming = options.resuming ?? false;
    this.client = new WandbClient(run.baseUrl, apiKey, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.signal });
  }

  static async open(dir: string, spool: Spool, run: RunFile, apiKey: string | undefined, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    // Line offsets start again at 0 when the spool is sent again, so what the server has is overwritten, not doubled.
    return new Delivery(dir, spool, run, await WANDB_FILES.startingProgress(dir, spool, logger), apiKey, logger, options);
  }

  get target(): string {
    return this.client.baseUrl;
  }

  /** An outage: no connection, a timeout, 408, 429 or 5xx. */
  protected retryable(err: unknown): boolean {
    return err instanceof WandbError && err.retryable;
  }

  protected stepOf(entry: SpoolEntry): number | undefined {
    return entry.t === 'history' ? entry.step : undefined;
  }

  /**
   * History, system metrics and console lines share file_stream requests; once the
   * server lost history, entries sent before are passed over but for history rows.
   */
  protected batchRules(): Omit<BatchRules<SpoolEntry>, 'highest' | 'stepOf'> {
    return {
      streamed: (entry) => entry.t === 'events' || entry.t === 'console',
      maxSize: this.maxRows,
      passed: (_entry, end) => end <= this.replayUntil,
    };
  }

  protected async prepare(): Promise<void> {
    const entity = await this.ensureEntity();
    if (!this.checked) {
      await this.checkServer(entity);
      this.checked = true;
    }
  }

  protected override advance(delivered: Delivered, unit: DeliveryUnit<SpoolEntry>): Delivered {
    const next = super.advance(delivered, unit);
    if (unit.kind !== 'batch') return next;
    const { history, events, console } = streams(unit.entries);
    return {
      ...next,
      lines: delivered.lines + history.length,
      events: delivered.events + events.length,
      logs: delivered.logs + console.reduce((n, e) => n + e.lines.length, 0),
    };
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

  /**
   * A run this client wrote to before (or is resuming) is asked about first, as the
   * SDK asks on resume; a new run is not, as the SDK does not. A server that lost
   * lines gets them again; one with more goes on after its last step; one that holds
   * another history is left alone, with one line saying why.
   */
  private async checkServer(entity: string): Promise<void> {
    if (this.delivered.offset === 0 && !this.resuming) return;
    const { run } = this;
    const status = await this.client.runResumeStatus(entity, run.project, run.id);
    if (status) this.existing = { id: status.id, tags: status.tags };
    const server: ServerRun | undefined = status && {
      lines: status.historyLineCount,
      tailStep: status.tailStep,
      events: status.eventsLineCount,
      logs: status.logLineCount,
      tags: status.tags,
    };
    const decision = reconcile(this.delivered, await this.sentLines(), server);
    const where = `W&B run ${entity}/${run.project}/${run.id}`;
    switch (decision.kind) {
      case 'agree':
        return;
      case 'refuse':
        throw new WandbError(`${where} is not the one this run sent to: ${decision.reason}; nothing more is sent (remove ${join(this.dir, 'run.json')} to log to a new W&B run)`, undefined, false);
      case 'behind':
        this.logger.warn(`${this.label}: ${where} lacks ${decision.missing} history lines this run sent; sending them again from line ${decision.delivered.lines}`);
        this.replayUntil = this.delivered.offset;
        break;
      case 'ahead':
        this.logger.info(`${this.label}: ${where} holds ${decision.extra} history lines more than this run sent, up to step ${decision.delivered.step}; steps up to it are not sent again`);
        break;
    }
    this.delivered = decision.delivered;
    await writeProgress(this.progressPath, this.delivered);
  }

  /** The history lines this client sent, from the delivered part of the spool, as `batches` chose them. */
  private async sentLines(): Promise<SentLine[]> {
    const lines: SentLine[] = [];
    let highest = -1;
    for (const { entry, end } of await this.spool.read(0, this.delivered.offset)) {
      if (end > this.delivered.offset) break;
      if (entry.t === 'history' && entry.step > highest) {
        lines.push({ step: entry.step, end });
        highest = entry.step;
      }
    }
    return lines;
  }

  protected async sendEntry(entry: SpoolEntry, end: number): Promise<void> {
    const { run } = this;
    const entity = run.entity!;
    switch (entry.t) {
      case 'run':
        return this.upsert(entry, entity);
      case 'summary':
        await this.client.fileStream(entity, run.project, run.id, {
          files: { 'wandb-summary.json': { offset: 0, content: [wandbJson(entry.summary)] } },
        });
        this.stats.summaries++;
        return;
      case 'files':
        return this.uploadFiles(entry, entity, end);
      case 'finish':
        await this.client.fileStream(entity, run.project, run.id, { complete: true, exitcode: entry.exitcode });
        this.stats.finishes++;
        return;
    }
  }

  /** One file_stream request: history rows, system metrics and console lines, each file at the line offset the server has. */
  protected async sendBatch(entries: SpoolEntry[]): Promise<void> {
    const { run, delivered } = this;
    const { history, events, console } = streams(entries);
    const files: NonNullable<FileStreamBody['files']> = {};
    if (history.length) files['wandb-history.jsonl'] = { offset: delivered.lines, content: history.map((e) => wandbJson(e.row)) };
    if (events.length) files['wandb-events.jsonl'] = { offset: delivered.events, content: events.map((e) => wandbJson(e.row)) };
    const logs = console.flatMap((e) => e.lines.map((line) => streamedConsoleLine(e, line)));
    if (logs.length) files['output.log'] = { offset: delivered.logs, content: logs };
    await this.client.fileStream(run.entity!, run.project, run.id, { files });
    this.stats.rows += history.length;
    this.stats.events += events.length;
    this.stats.logs += logs.length;
  }

  /**
   * The first upsert of a run names it and sets its tags, group and notes; once the
   * server holds the run, the SDK sends displayName null and the server's own tags,
   * so what was edited in the web UI stays.
   */
  private async upsert(entry: Extract<SpoolEntry, { t: 'run' }>, entity: string): Promise<void> {
    const { run } = this;
    const existing = this.existing;
    const vars: UpsertVars = {
      name: run.id,
      project: run.project,
      entity,
      config: JSON.stringify(wandbConfig(entry.config)),
      jobType: 'train',
      ...(entry.host ? { host: entry.host } : {}),
      program: 'poke train',
      ...(existing
        ? { ...(existing.id ? { id: existing.id } : {}), displayName: null, tags: existing.tags }
        : {
            displayName: entry.displayName,
            tags: entry.tags,
            ...(entry.group ? { groupName: entry.group } : {}),
            ...(entry.notes ? { notes: entry.notes } : {}),
          }),
    };
    const bucket = await this.client.upsertBucket(vars);
    if (this.stats.upserts === 0) this.logger.info(`${this.label}: run ${entity}/${run.project}/${bucket.name} at ${this.client.baseUrl}`);
    this.stats.upserts++;
    this.existing ??= { id: bucket.id ?? null, tags: null };
  }

  /** CreateRunFiles, a PUT of each file to its URL, then file_stream's `uploaded`, as runfiles/uploader.go does. */
  private async uploadFiles(entry: Extract<SpoolEntry, { t: 'files' }>, entity: string, end: number): Promise<void> {
    const { run } = this;
    const spooled = entry.derived.length ? (await this.spool.read(0, end)).filter((e) => e.end <= end).map((e) => e.entry) : [];
    const contents = { ...entry.texts, ...derivedFiles(spooled, entry.derived) };
    const names = Object.keys(contents);
    const { headers, urls } = await this.client.createRunFiles(entity, run.project, run.id, names);
    for (const name of names) {
      const url = urls.get(name);
      if (!url) throw new WandbError(`CreateRunFiles gave no upload URL for ${name}`, undefined, false);
      await this.client.upload(url, headers, Buffer.from(contents[name]!));
    }
    await this.client.fileStream(entity, run.project, run.id, { uploaded: names });
    this.stats.files += names.length;
  }
}
