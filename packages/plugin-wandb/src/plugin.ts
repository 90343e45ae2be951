import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { validatePluginOptions, trackerPlugin, UserError } from '@poke/core';
import { configForDisk, redactSecrets, redactUrl, readRunInfo } from '@poke/core/internal';
import type { PokePlugin, Trainer, RunContext, RunSummary, MetricsRecord } from '@poke/core';
import { wandbOptionsSchema, MODES, BASE_URL } from './schema.js';
import type { WandbOptions, WandbMode, ResolvedWandbOptions } from './schema.js';
import { DEFAULT_BASE_URL, findApiKey } from './auth.js';
import { Delivery } from './delivery.js';
import { WANDB_FILES } from './spool.js';
import type { Spool, SpoolEntry, RunFile, Delivered } from './spool.js';
import { track, summaryOf, jsonMetrics } from './summary.js';
import type { PluginState } from './summary.js';
import { SystemSampler } from './system.js';
import { ConsoleCapture } from './console.js';
import { wandbInternalConfig, runMetadata, configYaml } from './metadata.js';
import type { RunOrigin } from './metadata.js';

export const PLUGIN_NAME = 'poke:wandb';

export type { ResolvedWandbOptions };

/** Exit codes as W&B reads them: 0 finished, non-zero failed; 255 is what W&B's own SDK reports for a Ctrl-C. */
export const EXIT_CODES: Record<RunSummary['status'], number> = { completed: 0, failed: 1, interrupted: 255 };

/** Validate options; mode falls back to WANDB_MODE and baseUrl to WANDB_BASE_URL. */
export function resolveWandbOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedWandbOptions {
  const o = validatePluginOptions(PLUGIN_NAME, wandbOptionsSchema, options);
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
  return { ...o, mode: mode ?? 'online', baseUrl };
}

/** A W&B-style run id: 8 characters of base 36. */
export function generateRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 8; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

/** What `wandb()` returns: `{ name, apply }`, with its best-so-far kept in checkpoints under `stateKey`. */
export type WandbPlugin = Required<PokePlugin>;

/**
 * Logs a run to Weights & Biases: the redacted config, every metrics record
 * at the trainer's global step, system metrics, the console, a summary with
 * best and final metrics, the run's files and the exit state. Every entry goes
 * to runs/<run>/wandb/offline.jsonl first and is sent in the background
 * (`trackerPlugin` from @poke/core), so training never waits for W&B and an
 * outage loses nothing.
 */
export function wandb(options?: WandbOptions): WandbPlugin {
  const resolved = resolveWandbOptions(options);
  let tracked: PluginState = { best: {}, last: {} };
  /** Seconds this run was active in earlier attempts (run.json's activeSeconds), and when this one began. */
  let activeBefore = 0;
  let sessionStart = Date.now();
  let origin: RunOrigin | undefined;
  let config: Record<string, unknown> = {};
  /** Seconds of this run's activity: earlier attempts' and this one's, without the time in between. */
  const runtime = (now = Date.now()) => activeBefore + Math.max(0, now - sessionStart) / 1000;

  const tracker = trackerPlugin<SpoolEntry, RunFile, Delivered, Delivery>({
    name: PLUGIN_NAME,
    title: 'W&B',
    files: WANDB_FILES,
    finishTimeout: resolved.finishTimeout,
    records: 'history rows',
    continues: (existing) =>
      existing.baseUrl === resolved.baseUrl &&
      existing.project === resolved.project &&
      (resolved.entity === undefined || existing.entity === undefined || existing.entity === resolved.entity),
    runFile: (context, existing) => newOrContinued(resolved, context, existing),
    describe: (run) => `${run.entity ?? '?'}/${run.project}/${run.id} at ${run.baseUrl}`,
    async start({ trainer, context, dir, run, spool, append }) {
      sessionStart = Date.now();
      const info = await readRunInfo(context.runDir).catch(() => undefined);
      // W&B's runtime leaves out the time between attempts, as the SDK's does.
      activeBefore = context.resume !== undefined ? (info?.activeSeconds ?? 0) : 0;
      origin = { startedAt: new Date(sessionStart).toISOString(), backend: context.backend, gitCommit: info?.gitCommit, root: process.cwd() };
      config = { ...(configForDisk(trainer.config) as Record<string, unknown>), _wandb: wandbInternalConfig() };
      const delivery = await openDelivery(resolved, { trainer, context, dir, run, spool });
      // The user's texts go through the same rule as the config: a URL secret in the notes is not sent.
      const texts = redactSecrets({ displayName: run.displayName, tags: resolved.tags, group: resolved.group, notes: resolved.notes });
      const entry: SpoolEntry = {
        t: 'run',
        displayName: texts.displayName,
        tags: texts.tags,
        ...(texts.group ? { group: texts.group } : {}),
        ...(texts.notes ? { notes: texts.notes } : {}),
        host: hostname(),
        config,
      };
      return { delivery, entries: [entry], watch: () => watch(resolved.statsInterval, runtime, append) };
    },
    record(record: MetricsRecord) {
      track(tracked, record);
      const ts = Date.parse(record.timestamp);
      const timestamp = (Number.isNaN(ts) ? Date.now() : ts) / 1000;
      return { t: 'history', step: record.step, row: { ...jsonMetrics(record.metrics), _step: record.step, _timestamp: timestamp, _runtime: runtime(timestamp * 1000) } };
    },
    // System metrics and console lines happened once, whatever is trained again; a summary, files and exit code are superseded.
    keepOnResume: (e, lastLoggedStep) => e.t === 'run' || e.t === 'events' || e.t === 'console' || (e.t === 'history' && e.step <= lastLoggedStep),
    closing: (summary) => [
      { t: 'summary', summary: summaryOf(tracked, summary, runtime) },
      {
        t: 'files',
        texts: { 'config.yaml': configYaml(config), 'wandb-metadata.json': JSON.stringify(runMetadata(origin!)) },
        derived: ['output.log', 'wandb-summary.json'],
      },
      { t: 'finish', exitcode: EXIT_CODES[summary.status] },
    ],
  });

  return {
    name: PLUGIN_NAME,
    stateKey: 'wandb',
    state: (): PluginState => structuredClone(tracked),
    restore(state: unknown): void {
      const s = state as Partial<PluginState> | undefined;
      tracked = { best: { ...s?.best }, last: { ...s?.last }, ...(s?.step !== undefined ? { step: s.step } : {}) };
    },
    apply(trainer: Trainer): void {
      if (resolved.mode !== 'disabled') tracker.apply(trainer); // disabled: nothing at all, no files, no network
    },
  };
}

/** run.json of this attempt: the recorded W&B run with this attempt's name, or a new run id. */
function newOrContinued(options: ResolvedWandbOptions, context: RunContext, existing: RunFile | undefined): RunFile {
  const displayName = options.name ?? context.runName;
  if (existing) return { ...existing, ...(options.entity && !existing.entity ? { entity: options.entity } : {}), displayName };
  return {
    version: 1,
    id: generateRunId(),
    project: options.project,
    ...(options.entity ? { entity: options.entity } : {}),
    baseUrl: options.baseUrl,
    displayName,
    createdAt: new Date().toISOString(),
  };
}

/** Online with a key: a sender. Offline, or without a key: the spool waits for `poke wandb sync`, with one line saying so. */
async function openDelivery(options: ResolvedWandbOptions, at: { trainer: Trainer; context: RunContext; dir: string; run: RunFile; spool: Spool }): Promise<Delivery | undefined> {
  const { trainer, context, dir, run, spool } = at;
  const sync = `poke wandb sync ${context.runDir}`;
  if (options.mode !== 'online') {
    trainer.logger.info(`wandb: offline; records go to ${spool.path} (send them with \`${sync}\`)`);
    return undefined;
  }
  const key = findApiKey(options.baseUrl);
  if (!key) {
    trainer.logger.warn(
      `wandb: no API key for ${options.baseUrl} (set WANDB_API_KEY or add it to ~/.netrc with \`wandb login\`); ` +
        `records are kept in ${spool.path}: send them with \`${sync}\``,
    );
    return undefined;
  }
  return Delivery.open(dir, spool, run, key.key, trainer.logger, {
    flushIntervalMs: options.flushInterval * 1000,
    maxBackoffMs: options.maxBackoff * 1000,
    requestTimeoutMs: options.requestTimeout * 1000,
    resuming: context.resume !== undefined,
  });
}

/**
 * System metrics now and every statsInterval, and the console as it is printed. The
 * metrics line also keeps file_stream going while training is quiet: the SDK's
 * heartbeat. The timer never keeps the process alive. Returns what stops both.
 */
function watch(statsInterval: number, runtime: (now?: number) => number, append: (entry: SpoolEntry) => void): () => void {
  const sampler = new SystemSampler();
  const sample = () => {
    const now = Date.now();
    append({ t: 'events', row: { ...sampler.sample(), _wandb: true, _timestamp: now / 1000, _runtime: runtime(now) } });
  };
  sample();
  const timer = setInterval(sample, statsInterval * 1000);
  timer.unref();
  const console = new ConsoleCapture((stream, lines) => append({ t: 'console', at: new Date().toISOString(), stream, lines }));
  return () => {
    clearInterval(timer);
    console.stop();
  };
}

