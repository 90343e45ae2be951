import { join } from 'node:path';
import { SpoolSender, writeProgress } from '@poke/core';
import type { Logger } from '@poke/core';
import { WandbClient, WandbError } from './client.js';
import type { UpsertVars, FileStreamBody } from './client.js';
import { readDelivered, writeRunFile, STATE_FILE, NOTHING_DELIVERED } from './spool.js';
import { reconcile } from './reconcile.js';
import type { ServerRun, SentLine } from './reconcile.js';
import { wandbJson } from './wandb-json.js';
import { derivedFiles, streamedConsoleLine } from './files.js';
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
  /** The run is resumed: ask the server what it holds even if nothing was delivered from this spool. */
  resuming?: boolean;
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
  /** System-metrics lines sent. */
  events: number;
  /** Console lines sent. */
  logs: number;
  /** Files uploaded. */
  files: number;
}

export interface DrainResult {
  /** Entries left in the spool, undelivered. */
  pendingEntries: number;
  /** History rows among them that the server does not have. */
  pendingRows: number;
  /** Why delivery is stuck, when it is. */
  lastError: string | undefined;
}

type Streamed = Extract<SpoolEntry, { t: 'history' | 'events' | 'console' }>;
type Single = Exclude<SpoolEntry, Streamed>;
/** One file_stream request: consecutive history rows, system metrics and console lines. */
interface Stream {
  kind: 'stream';
  history: Array<Extract<SpoolEntry, { t: 'history' }>>;
  events: Array<Extract<SpoolEntry, { t: 'events' }>>;
  console: Array<Extract<SpoolEntry, { t: 'console' }>>;
  skipped: number;
  end: number;
}
type Unit = Stream | { kind: 'single'; entry: Single; end: number } | { kind: 'skip'; skipped: number; end: number };

/** W&B's config format, as the SDK sends it: every top-level key as `{ value }`; a key without a value is left out, as JSON leaves it. */
export function wandbConfig(config: Record<string, unknown>): Record<string, { value: unknown }> {
  return Object.fromEntries(Object.entries(config).flatMap(([key, value]) => (value === undefined ? [] : [[key, { value }]])));
}

/**
 * Sends the spool to W&B in order, in the background (SpoolSender does the
 * reading, retrying and progress): upserts the run, streams history rows,
 * system metrics and console lines with explicit line offsets (a resent
 * request overwrites the same lines, never adds), uploads the run's files, the
 * summary and the exit code. Before writing to a run it sent to before, it asks
 * the server what it holds (RunResumeStatus) and goes on from there
 * (reconcile.ts). Used by the plugin while training and by `poke wandb sync`.
 */
export class Delivery extends SpoolSender<SpoolEntry, Delivered, Unit> {
  readonly stats: DeliveryStats = { rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0, events: 0, logs: 0, files: 0 };
  readonly client: WandbClient;
  private readonly label: string;
  private readonly maxRows: number;
  private readonly resuming: boolean;
  private checked = false;
  /** The server holds this run: later upserts leave its name and tags as they are. Its id and tags, once asked. */
  private existing: { id: string | null; tags: string[] | null } | undefined;
  /** Entries before this offset were delivered once; when history is sent again, only its rows are. */
  private replayUntil = 0;

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
    this.resuming = options.resuming ?? false;
    this.client = new WandbClient(run.baseUrl, apiKey, { timeoutMs: options.requestTimeoutMs ?? 15_000, signal: this.signal });
  }

  static async open(dir: string, spool: Spool, run: RunFile, apiKey: string | undefined, logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
    const delivered = await readDelivered(dir);
    if (delivered.offset > spool.size) {
      // The spool is shorter than what state.json says was delivered (edited by hand): resend it all.
      // Line offsets start again at 0, so what the server has is overwritten, not doubled.
      logger.warn(`wandb: ${spool.path} is shorter than ${dir}/state.json says was delivered; sending it all again`);
      Object.assign(delivered, NOTHING_DELIVERED);
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
    const entity = await this.ensureEntity();
    if (!this.checked) {
      await this.checkServer(entity);
      this.checked = true;
    }
  }

  protected advance(delivered: Delivered, unit: Unit): Delivered {
    if (unit.kind !== 'stream') return delivered;
    return {
      ...delivered,
      step: Math.max(delivered.step, ...unit.history.map((e) => e.step)),
      lines: delivered.lines + unit.history.length,
      events: delivered.events + unit.events.length,
      logs: delivered.logs + unit.console.reduce((n, e) => n + e.lines.length, 0),
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

  /**
   * Consecutive history, events and console entries share a request; history at or
   * below the highest delivered step is skipped (W&B keeps steps increasing).
   */
  protected batches(entries: ReadEntry[]): Unit[] {
    const units: Unit[] = [];
    let batch: Stream | undefined;
    let highest = this.delivered.step;
    const close = () => {
      if (batch) units.push(batch);
      batch = undefined;
    };
    const skip = (end: number) => {
      if (batch) {
        batch.skipped++;
        batch.end = end;
      } else units.push({ kind: 'skip', skipped: 1, end });
    };
    for (const { entry, end } of entries) {
      // sent once already: only history is sent again, to a server that lost it
      if (end <= this.replayUntil && entry.t !== 'history') {
        close();
        units.push({ kind: 'skip', skipped: 0, end });
        continue;
      }
      if (entry.t !== 'history' && entry.t !== 'events' && entry.t !== 'console') {
        close();
        units.push({ kind: 'single', entry, end });
        continue;
      }
      if (entry.t === 'history' && entry.step <= highest) {
        // the server has this step already (sent before a resume): W&B would drop it as a non-increasing step
        skip(end);
        continue;
      }
      if (batch && batch.history.length + batch.events.length + batch.console.length >= this.maxRows) close();
      batch ??= { kind: 'stream', history: [], events: [], console: [], skipped: 0, end };
      if (entry.t === 'history') {
        batch.history.push(entry);
        highest = entry.step;
      } else if (entry.t === 'events') batch.events.push(entry);
      else batch.console.push(entry);
      batch.end = end;
    }
    close();
    return units;
  }

  protected async send(unit: Unit): Promise<void> {
    if (unit.kind === 'skip') {
      this.stats.skipped += unit.skipped;
      return;
    }
    if (unit.kind === 'stream') return this.sendStream(unit);
    const { entry } = unit;
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
        return this.uploadFiles(entry, entity, unit.end);
      case 'finish':
        await this.client.fileStream(entity, run.project, run.id, { complete: true, exitcode: entry.exitcode });
        this.stats.finishes++;
        return;
    }
  }

  private async sendStream(unit: Stream): Promise<void> {
    const { run, delivered } = this;
    const files: NonNullable<FileStreamBody['files']> = {};
    if (unit.history.length) files['wandb-history.jsonl'] = { offset: delivered.lines, content: unit.history.map((e) => wandbJson(e.row)) };
    if (unit.events.length) files['wandb-events.jsonl'] = { offset: delivered.events, content: unit.events.map((e) => wandbJson(e.row)) };
    const logs = unit.console.flatMap((e) => e.lines.map((line) => streamedConsoleLine(e, line)));
    if (logs.length) files['output.log'] = { offset: delivered.logs, content: logs };
    await this.client.fileStream(run.entity!, run.project, run.id, { files });
    this.stats.rows += unit.history.length;
    this.stats.events += unit.events.length;
    this.stats.logs += logs.length;
    this.stats.skipped += unit.skipped;
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
