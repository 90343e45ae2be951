import { userInfo } from 'node:os';
import { validatePluginOptions, configForDisk, redactSecrets, redactUrl, gitCommit, UserError, POKE_VERSION } from '@poke/core';
import type { PokePlugin, Trainer, RunContext, RunSummary, MetricsRecord } from '@poke/core';
import { getCheckpointHooks } from '@poke/plugin-checkpoint/hooks';
import { mlflowOptionsSchema } from './schema.js';
import type { MlflowOptions } from './schema.js';
import { publicUri, LIMITS } from './client.js';
import type { RunStatus } from './client.js';
import { Delivery } from './delivery.js';
import { Spool, mlflowDir, readRunFile, writeRunFile, writeDelivered } from './spool.js';
import type { SpoolEntry, RunFile } from './spool.js';
import { flattenParams, metricValue } from './params.js';

export const PLUGIN_NAME = 'poke:mlflow';

export type ResolvedMlflowOptions = Required<Omit<MlflowOptions, 'runName'>> & Pick<MlflowOptions, 'runName'>;

const STATUS: Record<RunSummary['status'], RunStatus> = { completed: 'FINISHED', interrupted: 'KILLED', failed: 'FAILED' };

/** Validate options; the tracking URI falls back to MLFLOW_TRACKING_URI. */
export function resolveMlflowOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedMlflowOptions {
  const resolved = validatePluginOptions<MlflowOptions>(PLUGIN_NAME, mlflowOptionsSchema, options);
  const uri = resolved.trackingUri ?? env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new UserError(`plugin ${PLUGIN_NAME}: options.trackingUri is required when MLFLOW_TRACKING_URI is not set`, 'e.g. { trackingUri: "http://127.0.0.1:5000" }');
  }
  if (!/^https?:\/\/\S+$/.test(uri)) {
    throw new UserError(`plugin ${PLUGIN_NAME}: MLFLOW_TRACKING_URI must be an http(s) URI of a tracking server, got "${redactUrl(uri)}"`);
  }
  return { ...(resolved as ResolvedMlflowOptions), trackingUri: uri };
}

/**
 * Tracks a run in MLflow: params (the resolved config), metrics, status, system
 * tags and, when asked, checkpoints as artifacts. Every entry goes to the spool
 * (runs/<run>/mlflow/spool.jsonl) first and is delivered in the background, so
 * training never waits for the server and an outage loses nothing.
 */
export class MlflowPlugin implements PokePlugin {
  readonly name = PLUGIN_NAME;
  readonly options: ResolvedMlflowOptions;
  /** Set at `setup`. */
  delivery: Delivery | undefined;
  spool: Spool | undefined;
  private trainer!: Trainer;

  constructor(options?: MlflowOptions) {
    this.options = resolveMlflowOptions(options);
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    const hooks = trainer.hooks;
    hooks.setup.tapPromise(PLUGIN_NAME, (context) => this.setup(context));
    hooks.resumed.tapPromise(PLUGIN_NAME, ({ state }) => this.resumed(state.lastLoggedStep));
    // log is synchronous: one append to the spool, then the background sender takes over.
    hooks.log.tap(PLUGIN_NAME, (record) => this.logRecord(record));
    if (this.options.logCheckpoints !== false) {
      getCheckpointHooks(trainer).saved.tap(PLUGIN_NAME, ({ entry, dir, isBest }) => {
        if (this.options.logCheckpoints === 'all' || isBest) {
          this.append({ t: 'artifacts', id: entry.id, dir, path: `checkpoints/${entry.id}`, best: isBest });
        }
      });
    }
    hooks.done.tapPromise(PLUGIN_NAME, (summary) => this.finish(summary));
  }

  private async setup(context: RunContext): Promise<void> {
    const { trainer, options } = this;
    const dir = mlflowDir(context.runDir);
    const uri = publicUri(options.trackingUri);
    this.spool = new Spool(dir);
    const existing = await readRunFile(dir);
    let run: RunFile;
    const continued = existing !== undefined && existing.trackingUri === uri && existing.experiment === options.experiment;
    if (continued) {
      run = existing;
    } else {
      if (existing) {
        trainer.logger.warn(
          `mlflow: this run was tracked as ${existing.runId ?? '(not created yet)'} in "${existing.experiment}" at ${existing.trackingUri}; ` +
            `it now goes to a new MLflow run in "${options.experiment}" at ${uri}, with the whole spool replayed`,
        );
        await writeDelivered(dir, { offset: 0, step: -1 });
      }
      run = { version: 1, trackingUri: uri, experiment: options.experiment, runName: options.runName ?? context.runName, startTime: Date.now() };
      await writeRunFile(dir, run);
    }
    this.delivery = await Delivery.open(dir, this.spool, run, trainer.logger, {
      flushIntervalMs: options.flushInterval * 1000,
      maxBackoffMs: options.maxBackoff * 1000,
      requestTimeoutMs: options.requestTimeout * 1000,
      trackingUri: options.trackingUri,
    });

    const { params, truncated } = flattenParams(configForDisk(trainer.config));
    for (const key of truncated) {
      trainer.logger.warn(`mlflow: param ${key} is longer than MLflow's limit of ${LIMITS.paramValueLength} characters; truncated`);
    }
    this.append({ t: 'params', params });
    this.append({ t: 'tags', tags: this.tags(context, run.runName) });
    if (continued && context.resume !== undefined) this.append({ t: 'status', status: 'RUNNING', ts: Date.now() });
    // When resuming, start only once `resumed` has trimmed the records the resumed run emits again.
    if (context.resume === undefined) this.delivery.start();
  }

  private tags(context: RunContext, runName: string): Record<string, string> {
    const tags: Record<string, string> = {
      'mlflow.runName': runName,
      'mlflow.source.name': 'poke',
      'mlflow.source.type': 'LOCAL',
      'poke.run_id': context.runId,
      'poke.run_name': context.runName,
      'poke.run_dir': context.runDir,
      'poke.backend': context.backend,
      'poke.version': POKE_VERSION,
    };
    try {
      tags['mlflow.user'] = userInfo().username;
    } catch {
      // no user name on this system
    }
    const commit = gitCommit(this.trainer.baseDir);
    if (commit) tags['mlflow.source.git.commit'] = commit;
    // The user's tags go through the same rule as the config: they are sent, so a secret in one is redacted.
    return { ...tags, ...redactSecrets(this.options.tags) };
  }

  /** Records after lastLoggedStep are emitted again: drop the undelivered ones (the delivered ones are skipped by step). */
  private async resumed(lastLoggedStep: number): Promise<void> {
    const { spool, delivery } = this;
    if (!spool || !delivery) return;
    const dropped = await spool.rewriteTail(delivery.delivered.offset, (e) => e.t !== 'metrics' || e.step <= lastLoggedStep);
    if (dropped) this.trainer.logger.info(`mlflow: dropped ${dropped} undelivered records after step ${lastLoggedStep}; the resumed run emits them again`);
    delivery.start();
  }

  private logRecord(record: MetricsRecord): void {
    const m: Record<string, number | string> = {};
    for (const [key, value] of Object.entries(record.metrics)) m[key] = metricValue(value);
    const ts = Date.parse(record.timestamp);
    this.append({ t: 'metrics', step: record.step, ts: Number.isNaN(ts) ? Date.now() : ts, m });
  }

  private append(entry: SpoolEntry): void {
    const spool = this.spool;
    const appended = spool?.tryAppend(entry, (err) =>
      this.trainer.logger.warn(`mlflow: cannot write ${spool.path} (${err.message}); nothing more is sent to MLflow in this run`),
    );
    if (appended) this.delivery?.notify();
  }

  private async finish(summary: RunSummary): Promise<void> {
    const { spool, delivery } = this;
    if (!spool || !delivery) return;
    this.append({ t: 'status', status: STATUS[summary.status], ts: Date.now() });
    try {
      const result = await delivery.drain(this.options.finishTimeout * 1000);
      if (result.pendingEntries > 0) {
        const other = result.pendingEntries - result.pendingRecords;
        this.trainer.logger.warn(
          `mlflow: ${result.pendingRecords} metric records${other ? ` and ${other} other entries` : ''} were not delivered to ${delivery.client.uri}` +
            `${result.lastError ? ` (${result.lastError})` : ''}; they are kept in ${spool.path}: send them with \`poke mlflow sync ${summary.runDir}\``,
        );
      }
    } catch (err) {
      this.trainer.logger.warn(`mlflow: finishing failed: ${(err as Error).message}; the spool is kept in ${spool.path}`);
    } finally {
      spool.close();
    }
  }
}

export function mlflow(options?: MlflowOptions): MlflowPlugin {
  return new MlflowPlugin(options);
}
