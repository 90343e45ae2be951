import { userInfo } from 'node:os';
import { validatePluginOptions, trackerPlugin, UserError, POKE_VERSION } from '@poke/core';
import { configForDisk, redactSecrets, redactUrl, gitCommit } from '@poke/core/internal';
import type { PokePlugin, RunContext, RunSummary } from '@poke/core';
import { getCheckpointHooks } from '@poke/plugin-checkpoint/hooks';
import { mlflowOptionsSchema } from './schema.js';
import type { MlflowOptions, ResolvedMlflowOptions } from './schema.js';
import { publicUri, LIMITS } from './client.js';
import type { RunStatus } from './client.js';
import { Delivery } from './delivery.js';
import { MLFLOW_FILES } from './spool.js';
import type { SpoolEntry, RunFile, Delivered } from './spool.js';
import { flattenParams, metricValue } from './params.js';

export const PLUGIN_NAME = 'poke:mlflow';

export type { ResolvedMlflowOptions };

const STATUS: Record<RunSummary['status'], RunStatus> = { completed: 'FINISHED', interrupted: 'KILLED', failed: 'FAILED' };

/** Validate options; the tracking URI falls back to MLFLOW_TRACKING_URI. */
export function resolveMlflowOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedMlflowOptions {
  const resolved = validatePluginOptions(PLUGIN_NAME, mlflowOptionsSchema, options);
  const uri = resolved.trackingUri ?? env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new UserError(`plugin ${PLUGIN_NAME}: options.trackingUri is required when MLFLOW_TRACKING_URI is not set`, 'e.g. { trackingUri: "http://127.0.0.1:5000" }');
  }
  if (!/^https?:\/\/\S+$/.test(uri)) {
    throw new UserError(`plugin ${PLUGIN_NAME}: MLFLOW_TRACKING_URI must be an http(s) URI of a tracking server, got "${redactUrl(uri)}"`);
  }
  return { ...resolved, trackingUri: uri };
}

/** What `mlflow()` returns: `{ name, apply }`. */
export type MlflowPlugin = PokePlugin;

/**
 * Tracks a run in MLflow: params (the resolved config), metrics, status, system
 * tags and, when asked, checkpoints as artifacts. Every entry goes to the spool
 * (runs/<run>/mlflow/spool.jsonl) first and is delivered in the background
 * (`trackerPlugin` from @poke/core), so training never waits for the server and
 * an outage loses nothing.
 */
export function mlflow(options?: MlflowOptions): MlflowPlugin {
  const resolved = resolveMlflowOptions(options);
  const uri = publicUri(resolved.trackingUri);
  return trackerPlugin<SpoolEntry, RunFile, Delivered, Delivery>({
    name: PLUGIN_NAME,
    title: 'MLflow',
    files: MLFLOW_FILES,
    finishTimeout: resolved.finishTimeout,
    records: 'metric records',
    continues: (existing) => existing.trackingUri === uri && existing.experiment === resolved.experiment,
    runFile: (context, existing) =>
      existing ?? { version: 1, trackingUri: uri, experiment: resolved.experiment, runName: resolved.runName ?? context.runName, startTime: Date.now() },
    describe: (run) => `${run.runId ?? '(not created yet)'} in "${run.experiment}" at ${run.trackingUri}`,
    async start({ trainer, context, dir, run, continued, spool }) {
      const delivery = await Delivery.open(dir, spool, run, trainer.logger, {
        flushIntervalMs: resolved.flushInterval * 1000,
        maxBackoffMs: resolved.maxBackoff * 1000,
        requestTimeoutMs: resolved.requestTimeout * 1000,
        trackingUri: resolved.trackingUri,
      });
      const { params, truncated } = flattenParams(configForDisk(trainer.config));
      for (const key of truncated) {
        trainer.logger.warn(`mlflow: param ${key} is longer than MLflow's limit of ${LIMITS.paramValueLength} characters; truncated`);
      }
      const entries: SpoolEntry[] = [
        { t: 'params', params },
        { t: 'tags', tags: { ...systemTags(context, run.runName, trainer.baseDir), ...redactSecrets(resolved.tags) } },
      ];
      if (continued && context.resume !== undefined) entries.push({ t: 'status', status: 'RUNNING', ts: Date.now() });
      return { delivery, entries };
    },
    record(record) {
      const m: Record<string, number | string> = {};
      for (const [key, value] of Object.entries(record.metrics)) m[key] = metricValue(value);
      const ts = Date.parse(record.timestamp);
      return { t: 'metrics', step: record.step, ts: Number.isNaN(ts) ? Date.now() : ts, m };
    },
    keepOnResume: (e, lastLoggedStep) => e.t !== 'metrics' || e.step <= lastLoggedStep,
    closing: (summary) => [{ t: 'status', status: STATUS[summary.status], ts: Date.now() }],
    tap(trainer, append) {
      if (resolved.logCheckpoints === false) return;
      getCheckpointHooks(trainer).saved.tap(PLUGIN_NAME, ({ entry, dir, isBest }) => {
        if (resolved.logCheckpoints === 'all' || isBest) append({ t: 'artifacts', id: entry.id, dir, path: `checkpoints/${entry.id}`, best: isBest });
      });
    },
  });
}

/** The tags MLflow's own clients set, and poke's; the user's tags go on top (they are sent, so a secret in one is redacted). */
function systemTags(context: RunContext, runName: string, baseDir: string): Record<string, string> {
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
  const commit = gitCommit(baseDir);
  if (commit) tags['mlflow.source.git.commit'] = commit;
  return tags;
}
