import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { validatePluginOptions, configForDisk, redactSecrets, redactUrl, readRunInfo, UserError, inferMode, isBetter } from '@poke/core';
import type { PokePlugin, Trainer, RunContext, RunSummary, MetricsRecord, MonitorMode } from '@poke/core';
import { wandbOptionsSchema, MODES } from './schema.js';
import type { WandbOptions, WandbMode } from './schema.js';
import { DEFAULT_BASE_URL, findApiKey } from './auth.js';
import { Delivery } from './delivery.js';
import { Spool, wandbDir, readRunFile, writeRunFile, readDelivered, writeDelivered, NOTHING_DELIVERED } from './spool.js';
import type { SpoolEntry, RunFile } from './spool.js';
import { spoolNumber } from './wandb-json.js';
import { SystemSampler } from './system.js';
import { ConsoleCapture } from './console.js';
import { wandbInternalConfig, runMetadata, configYaml } from './metadata.js';
import type { RunOrigin } from './metadata.js';

export const PLUGIN_NAME = 'poke:wandb';

export interface ResolvedWandbOptions {
  project: string;
  entity: string | undefined;
  name: string | undefined;
  group: string | undefined;
  tags: string[];
  notes: string | undefined;
  mode: WandbMode;
  baseUrl: string;
  flushInterval: number;
  statsInterval: number;
  finishTimeout: number;
  requestTimeout: number;
  maxBackoff: number;
}

/** Exit codes as W&B reads them: 0 finished, non-zero failed; 255 is what W&B's own SDK reports for a Ctrl-C. */
export const EXIT_CODES: Record<RunSummary['status'], number> = { completed: 0, failed: 1, interrupted: 255 };

// No credentials, query or fragment: paths are appended to it, and the key travels in a header.
const BASE_URL = /^https?:\/\/[^\s/@?#]+(\/[^\s@?#]*)?$/;

/** Validate options; mode falls back to WANDB_MODE and baseUrl to WANDB_BASE_URL. */
export function resolveWandbOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedWandbOptions {
  const o = validatePluginOptions<WandbOptions>(PLUGIN_NAME, wandbOptionsSchema, options);
  let mode = o.mode;
  if (mode === undefined && env.WANDB_MODE) {
    const fromEnv = env.WANDB_MODE === 'dryrun' ? 'offline' : env.WANDB_MODE === 'run' ? 'online' : env.WANDB_MODE;
    if (!(MODES as readonly string[]).includes(fromEnv)) {
      throw new UserError(`plugin ${PLUGIN_NAME}: WANDB_MODE must be one of ${MODES.join(', ')}, got "${env.WANDB_MODE}"`);
    }
    mode = fromEnv as WandbMode;
  }
  const baseUrl = (o.baseUrl ?? (env.WANDB_BASE_URL || DEFAULT_BASE_URL)).replace(/\/+$/, '');
  if (!BASE_URL.test(baseUrl)) {
    throw new UserError(`plugin ${PLUGIN_NAME}: WANDB_BASE_URL must be an http(s) URL without credentials or query, got "${redactUrl(baseUrl)}"`, 'e.g. https://wandb.example.com');
  }
  return {
    project: o.project ?? 'poke',
    entity: o.entity,
    name: o.name,
    group: o.group,
    tags: o.tags ?? [],
    notes: o.notes,
    mode: mode ?? 'online',
    baseUrl,
    flushInterval: o.flushInterval ?? 15,
    statsInterval: o.statsInterval ?? 15,
    finishTimeout: o.finishTimeout ?? 10,
    requestTimeout: o.requestTimeout ?? 15,
    maxBackoff: o.maxBackoff ?? 30,
  };
}

/** A W&B-style run id: 8 characters of base 36. */
export function generateRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 8; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

/** The direction a metric's name states (the core's rule: loss → min, accuracy → max); metrics that state none have no best. */
export function bestDirection(metric: string): MonitorMode | undefined {
  return inferMode(metric);
}

interface PluginState {
  best: Record<string, { value: number; step: number }>;
  last: Record<string, number>;
  /** The highest step logged, the summary's `_step`. */
  step?: number;
}

/**
 * Logs a run to Weights & Biases: the redacted config, every metrics record
 * at the trainer's global step, a summary with best and final metrics, and the
 * exit state. Every entry goes to runs/<run>/wandb/offline.jsonl first and is
 * sent in the background, so training never waits for W&B and an outage loses nothing.
 */
export class WandbPlugin implements PokePlugin {
  readonly name = PLUGIN_NAME;
  readonly stateKey = 'wandb';
  readonly options: ResolvedWandbOptions;
  /** Set at `setup` (online mode with a key). */
  delivery: Delivery | undefined;
  spool: Spool | undefined;
  run: RunFile | undefined;
  private trainer!: Trainer;
  /** Seconds this run was active in earlier attempts (run.json's activeSeconds), and when this one began. */
  private activeBefore = 0;
  private sessionStart = Date.now();
  private origin: RunOrigin | undefined;
  private config: Record<string, unknown> = {};
  private stats: NodeJS.Timeout | undefined;
  private console: ConsoleCapture | undefined;
  private tracked: PluginState = { best: {}, last: {} };

  constructor(options?: WandbOptions) {
    this.options = resolveWandbOptions(options);
  }

  state(): PluginState {
    return structuredClone(this.tracked);
  }

  restore(state: unknown): void {
    const s = state as Partial<PluginState> | undefined;
    this.tracked = { best: { ...s?.best }, last: { ...s?.last }, ...(s?.step !== undefined ? { step: s.step } : {}) };
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    if (this.options.mode === 'disabled') return; // nothing at all: no files, no network
    const hooks = trainer.hooks;
    hooks.setup.tapPromise(PLUGIN_NAME, (context) => this.setup(context));
    hooks.resumed.tapPromise(PLUGIN_NAME, ({ state }) => this.resumed(state.lastLoggedStep));
    // log is synchronous: one append to the spool; the background sender does the rest.
    hooks.log.tap(PLUGIN_NAME, (record) => this.logRecord(record));
    hooks.done.tapPromise(PLUGIN_NAME, (summary) => this.finish(summary));
  }

  private async setup(context: RunContext): Promise<void> {
    try {
      await this.open(context);
    } catch (err) {
      // W&B must never stop training: go on without it.
      this.stopWatching();
      this.spool?.close();
      this.spool = undefined;
      this.delivery = undefined;
      this.trainer.logger.warn(`wandb: cannot set up W&B logging (${(err as Error).message}); training goes on without it`);
    }
  }

  private async open(context: RunContext): Promise<void> {
    const { trainer, options } = this;
    const dir = wandbDir(context.runDir);
    const existing = await readRunFile(dir);
    const displayName = options.name ?? context.runName;
    const same =
      existing !== undefined &&
      existing.baseUrl === options.baseUrl &&
      existing.project === options.project &&
      (options.entity === undefined || existing.entity === undefined || existing.entity === options.entity);
    let run: RunFile;
    if (same) {
      run = { ...existing, ...(options.entity && !existing.entity ? { entity: options.entity } : {}), displayName };
    } else {
      if (existing) {
        trainer.logger.warn(
          `wandb: this run was logged as ${existing.entity ?? '?'}/${existing.project}/${existing.id} at ${existing.baseUrl}; ` +
            `it now goes to a new W&B run in ${options.project} at ${options.baseUrl}, with the whole spool sent again`,
        );
        await writeDelivered(dir, { ...NOTHING_DELIVERED });
      }
      run = {
        version: 1,
        id: generateRunId(),
        project: options.project,
        ...(options.entity ? { entity: options.entity } : {}),
        baseUrl: options.baseUrl,
        displayName,
        createdAt: new Date().toISOString(),
      };
    }
    await writeRunFile(dir, run);
    this.run = run;
    this.sessionStart = Date.now();
    const info = await readRunInfo(context.runDir).catch(() => undefined);
    // W&B's runtime leaves out the time between attempts, as the SDK's does.
    this.activeBefore = context.resume !== undefined ? (info?.activeSeconds ?? 0) : 0;
    this.origin = { startedAt: new Date(this.sessionStart).toISOString(), backend: context.backend, gitCommit: info?.gitCommit, root: process.cwd() };
    this.spool = new Spool(dir);

    if (options.mode === 'online') {
      const key = findApiKey(options.baseUrl);
      if (!key) {
        trainer.logger.warn(
          `wandb: no API key for ${options.baseUrl} (set WANDB_API_KEY or add it to ~/.netrc with \`wandb login\`); ` +
            `records are kept in ${this.spool.path}: send them with \`poke wandb sync ${context.runDir}\``,
        );
      } else {
        this.delivery = await Delivery.open(dir, this.spool, run, key.key, trainer.logger, {
          flushIntervalMs: options.flushInterval * 1000,
          maxBackoffMs: options.maxBackoff * 1000,
          requestTimeoutMs: options.requestTimeout * 1000,
          resuming: context.resume !== undefined,
        });
      }
    } else {
      trainer.logger.info(`wandb: offline; records go to ${this.spool.path} (send them with \`poke wandb sync ${context.runDir}\`)`);
    }

    // The user's texts go through the same rule as the config: a URL secret in the notes is not sent.
    const texts = redactSecrets({ displayName, tags: options.tags, group: options.group, notes: options.notes });
    this.config = { ...(configForDisk(trainer.config) as Record<string, unknown>), _wandb: wandbInternalConfig() };
    this.append({
      t: 'run',
      displayName: texts.displayName,
      tags: texts.tags,
      ...(texts.group ? { group: texts.group } : {}),
      ...(texts.notes ? { notes: texts.notes } : {}),
      host: hostname(),
      config: this.config,
    });
    this.watch();
    // When resuming, start sending only once `resumed` has trimmed what the resumed run emits again.
    if (context.resume === undefined) this.delivery?.start();
  }

  /** Seconds of this run's activity: earlier attempts' and this one's, without the time in between. */
  private runtime(now = Date.now()): number {
    return this.activeBefore + Math.max(0, now - this.sessionStart) / 1000;
  }

  /**
   * System metrics now and every statsInterval, and the console as it is printed. The
   * metrics line also keeps file_stream going while training is quiet: the SDK's
   * heartbeat. The timer never keeps the process alive.
   */
  private watch(): void {
    const sampler = new SystemSampler();
    const sample = () => {
      const now = Date.now();
      this.append({ t: 'events', row: { ...sampler.sample(), _wandb: true, _timestamp: now / 1000, _runtime: this.runtime(now) } });
    };
    sample();
    this.stats = setInterval(sample, this.options.statsInterval * 1000);
    this.stats.unref();
    this.console = new ConsoleCapture((stream, lines) => this.append({ t: 'console', at: new Date().toISOString(), stream, lines }));
  }

  private stopWatching(): void {
    clearInterval(this.stats);
    this.stats = undefined;
    this.console?.stop();
    this.console = undefined;
  }

  /**
   * Records after lastLoggedStep are emitted again: drop the undelivered ones, and
   * the summary, files and exit of the earlier attempt. Delivered steps are skipped by step.
   */
  private async resumed(lastLoggedStep: number): Promise<void> {
    const { spool } = this;
    if (!spool) return;
    try {
      const delivered = this.delivery?.delivered ?? (await readDelivered(spool.dir));
      // System metrics and console lines happened once, whatever is trained again; a summary, files and exit code are superseded.
      const kept = (e: SpoolEntry) => e.t === 'run' || e.t === 'events' || e.t === 'console' || (e.t === 'history' && e.step <= lastLoggedStep);
      const dropped = await spool.rewriteTail(delivered.offset, kept);
      if (dropped) this.trainer.logger.info(`wandb: dropped ${dropped} undelivered entries after step ${lastLoggedStep}; the resumed run emits them again`);
    } catch (err) {
      this.trainer.logger.warn(`wandb: cannot trim ${spool.path} (${(err as Error).message})`);
    }
    this.delivery?.start();
  }

  private logRecord(record: MetricsRecord): void {
    if (!this.spool) return;
    const { best, last } = this.tracked;
    this.tracked.step = Math.max(this.tracked.step ?? -1, record.step);
    for (const [name, value] of Object.entries(record.metrics)) {
      last[name] = value;
      const direction = bestDirection(name);
      if (!direction || !Number.isFinite(value)) continue;
      const previous = best[name];
      if (!previous || isBetter(value, previous.value, direction)) best[name] = { value, step: record.step };
    }
    const ts = Date.parse(record.timestamp);
    const timestamp = (Number.isNaN(ts) ? Date.now() : ts) / 1000;
    this.append({
      t: 'history',
      step: record.step,
      row: { ...jsonMetrics(record.metrics), _step: record.step, _timestamp: timestamp, _runtime: this.runtime(timestamp * 1000) },
    });
  }

  private append(entry: SpoolEntry): void {
    const spool = this.spool;
    const appended = spool?.tryAppend(entry, (err) =>
      this.trainer.logger.warn(`wandb: cannot write ${spool.path} (${err.message}); nothing more is sent to W&B in this run`),
    );
    if (appended) this.delivery?.notify();
  }

  /** The summary W&B shows: final metrics, best ones (`best/<metric>`, `best/<metric>_step`), step and runtime. */
  summaryOf(summary: RunSummary): Record<string, unknown> {
    const out: Record<string, unknown> = { ...jsonMetrics({ ...this.tracked.last, ...summary.finalMetrics }) };
    for (const [name, { value, step }] of Object.entries(this.tracked.best)) {
      out[`best/${name}`] = value;
      out[`best/${name}_step`] = step;
    }
    const now = Date.now();
    // The last step logged, as the SDK's summary has it: a resuming SDK starts at the step after it.
    out._step = this.tracked.step ?? summary.globalStep;
    out._runtime = this.runtime(now);
    out._timestamp = now / 1000;
    // The SDK's whole seconds, which its resume reads first
    out._wandb = { runtime: Math.round(this.runtime(now)) };
    out['poke/status'] = summary.status;
    return out;
  }

  private async finish(summary: RunSummary): Promise<void> {
    const { spool, delivery } = this;
    if (!spool) return;
    this.stopWatching();
    this.append({ t: 'summary', summary: this.summaryOf(summary) });
    this.append({
      t: 'files',
      texts: { 'config.yaml': configYaml(this.config), 'wandb-metadata.json': JSON.stringify(runMetadata(this.origin!)) },
      derived: ['output.log', 'wandb-summary.json'],
    });
    this.append({ t: 'finish', exitcode: EXIT_CODES[summary.status] });
    try {
      if (!delivery) return;
      const result = await delivery.drain(this.options.finishTimeout * 1000);
      if (result.pendingEntries > 0) {
        this.trainer.logger.warn(
          `wandb: ${result.pendingRows} history rows and ${result.pendingEntries - result.pendingRows} other entries were not delivered to ${delivery.client.baseUrl}` +
            `${result.lastError ? ` (${result.lastError})` : ''}; they are kept in ${spool.path}: send them with \`poke wandb sync ${summary.runDir}\``,
        );
      }
    } catch (err) {
      this.trainer.logger.warn(`wandb: finishing failed: ${(err as Error).message}; the spool is kept in ${spool.path}`);
    } finally {
      spool.close();
    }
  }
}

/** Plain JSON, which the spool is, has no NaN or Infinity: the spool names them, and the sender writes W&B's bare tokens (wandb-json.ts). */
function jsonMetrics(metrics: Readonly<Record<string, number>>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(metrics)) out[key] = spoolNumber(value);
  return out;
}

export function wandb(options?: WandbOptions): WandbPlugin {
  return new WandbPlugin(options);
}
