import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Stage, UserError, validatePluginOptions, validateWithSchema } from '@poke/core';
import { parseStorageUrl, storageConfigSchema } from '@poke/core/internal';
import type { PokePlugin, Trainer, RunContext, RunFetch, ResolvedStorageConfig, Logger } from '@poke/core';
import { getCheckpointHooks } from '@poke/plugin-checkpoint/hooks';
import { storageOptionsSchema } from './schema.js';
import type { StorageOptions, ResolvedStorageOptions } from './schema.js';
import { createClient } from './client.js';
import { Bucket } from './remote.js';
import { RunLayout } from './layout.js';
import { pushCheckpoints, pushRunFiles } from './push.js';
import { pullRun } from './pull.js';
import { Syncer } from './syncer.js';
import { remoteShardsSource } from './shards-cache.js';
import { describe, isPermanent, storageUserError } from './errors.js';

export const PLUGIN_NAME = 'poke:storage';

/** How many more times the last pass of a run is tried before the run ends with uploads behind. */
const LAST_PASS_RETRIES = 2;

/** `value` checked as the config's `storage` key is (defaults filled in); `where` names it in an error. */
export function checkedStorage(value: object, where: string): ResolvedStorageConfig {
  validateWithSchema(storageConfigSchema, value, where, 'storage');
  return value as ResolvedStorageConfig;
}

/** The plugin's options with every default: what `poke storage` and remote folders use. */
export function defaultStorageOptions(): ResolvedStorageOptions {
  return validatePluginOptions<ResolvedStorageOptions>(PLUGIN_NAME, storageOptionsSchema, {});
}

/** A bucket and the run layout under the configured prefix, for the plugin and `poke storage`. */
export function openStorage(
  storage: ResolvedStorageConfig,
  options: ResolvedStorageOptions,
): { bucket: Bucket; layoutOf: (runName: string) => RunLayout; bucketOf: (url: string) => Bucket } {
  const { bucket, prefix } = parseStorageUrl(storage.url);
  const client = createClient(storage, options.stallSeconds);
  const upload = { partSize: options.partSize, queueSize: options.queueSize };
  return {
    bucket: new Bucket(client, bucket, upload),
    layoutOf: (runName) => new RunLayout(prefix, runName),
    // Another bucket on the same server, with the same credentials (shards under data.path).
    bucketOf: (url) => new Bucket(client, parseStorageUrl(url).bucket, upload),
  };
}

/**
 * Can these credentials list this prefix? A refusal (wrong keys, no bucket) is the
 * user's to fix and ends the run before it trains; an unreachable server is not:
 * training goes on and uploads catch up later.
 */
export async function checkAccess(bucket: Bucket, url: string, prefix: string, logger: Logger): Promise<void> {
  try {
    // A listing, not HeadBucket: its refusals carry S3's error name (HeadBucket's are a bare 403).
    await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: prefix, MaxKeys: 1 }));
  } catch (err) {
    if (isPermanent(err)) throw storageUserError(url, err);
    logger.warn(`storage ${url}: not reachable (${describe(err)}); training goes on, and uploads catch up when it answers (or later with poke storage sync)`);
  }
}

/**
 * Mirrors the run to S3-compatible storage (config `storage`, or `--storage`):
 * checkpoints are uploaded behind training after each save, committed last;
 * run.json, config.json and the CSV files follow at every epoch and at the end.
 * With `--resume`, a run missing locally is brought from the server first.
 */
export type StoragePlugin = PokePlugin & { readonly options: ResolvedStorageOptions };

export function storage(options?: StorageOptions): StoragePlugin {
  const resolved = validatePluginOptions<ResolvedStorageOptions>(PLUGIN_NAME, storageOptionsSchema, options);
  return { name: PLUGIN_NAME, options: resolved, apply: (trainer) => new StorageSession(trainer, resolved).tap() };
}

/** One trainer's storage: its bucket, its run's layout, and the background upload passes. */
class StorageSession {
  private readonly storage: ResolvedStorageConfig;
  private readonly bucket: Bucket;
  private readonly layoutOf: (runName: string) => RunLayout;
  private readonly bucketOf: (url: string) => Bucket;
  private syncer: Syncer | undefined;

  constructor(
    private readonly trainer: Trainer,
    private readonly options: ResolvedStorageOptions,
  ) {
    const storage = trainer.config.storage;
    if (!storage) {
      throw new UserError(`plugin ${PLUGIN_NAME}: the config has no storage to mirror runs to`, 'set storage.url in the config, or pass --storage s3://bucket/prefix');
    }
    this.storage = storage;
    ({ bucket: this.bucket, layoutOf: this.layoutOf, bucketOf: this.bucketOf } = openStorage(storage, options));
  }

  tap(): void {
    const { trainer } = this;
    trainer.registerDataSource(remoteShardsSource(this.bucketOf));
    trainer.hooks.fetchRun.tapPromise(PLUGIN_NAME, (request) => this.fetch(request));
    // First: credentials the server refuses end the run before any plugin opens anything (a checkpoint manager would save a last one).
    trainer.hooks.setup.tapPromise({ name: PLUGIN_NAME, stage: Stage.FIRST }, (context) => this.setup(context));
    // After retention pruned (it taps `saved` too): a pass sees what the run keeps.
    getCheckpointHooks(trainer).saved.tap({ name: PLUGIN_NAME, stage: Stage.LAST }, () => this.syncer?.request());
    // run.json is written after each epoch's validation; the next epoch's start carries it up.
    trainer.hooks.beforeEpoch.tap(PLUGIN_NAME, () => this.syncer?.request());
    trainer.hooks.closed.tapPromise(PLUGIN_NAME, () => this.close());
  }

  /** A run that is on the server but not here: pull it, so the resume continues it. */
  private async fetch({ runsDir, runName }: RunFetch): Promise<void> {
    if (!runName) return;
    const runDir = join(runsDir, runName);
    if (existsSync(join(runDir, 'run.json'))) return;
    const layout = this.layoutOf(runName);
    await checkAccess(this.bucket, this.storage.url, layout.root, this.trainer.logger);
    const report = await pullRun(this.bucket, layout, runDir, this.trainer.logger).catch((err: unknown) => {
      if (isPermanent(err)) throw storageUserError(this.storage.url, err);
      throw new UserError(`storage ${this.storage.url}: could not fetch run ${runName} (${describe(err)})`, 'it is not here and may be there: starting it anew could fork it; retry when the server answers');
    });
    if (!report) {
      this.trainer.logger.info(`storage: no run ${runName} under ${this.storage.url} either`);
      return;
    }
    const refused = report.refused.length ? `; refused ${report.refused.map((r) => r.id).join(', ')}` : '';
    this.trainer.logger.info(`storage: fetched run ${runName} from ${this.storage.url} (${report.checkpoints.length} checkpoint(s)${refused})`);
  }

  private async setup(context: RunContext): Promise<void> {
    const layout = this.layoutOf(context.runName);
    await checkAccess(this.bucket, this.storage.url, layout.root, this.trainer.logger);
    await this.refuseOtherRun(context, layout);
    const checkpointsDir = join(context.runDir, 'checkpoints');
    this.syncer = new Syncer(
      async () => {
        await this.refuseOtherRun(context, layout);
        await pushCheckpoints(this.bucket, layout, checkpointsDir, this.trainer.logger);
        await pushRunFiles(this.bucket, layout, context.runDir);
      },
      this.trainer.logger,
      this.options.retrySeconds * 1000,
    );
    // Whatever an earlier session left behind (a crash mid-upload, a server that was down) goes up now.
    this.syncer.request();
  }

  /**
   * A pass makes the server's copy match this folder: a new run whose name the
   * server already holds for another run would delete that run's checkpoints.
   * An unreachable server cannot tell; the passes find out later (see below).
   */
  private async refuseOtherRun(context: RunContext, layout: RunLayout): Promise<void> {
    const text = await this.bucket.getText(layout.file('run.json')).catch(() => undefined);
    const id = text === undefined ? undefined : (JSON.parse(text) as { id?: string }).id;
    if (id === undefined || id === context.runId) return;
    throw new UserError(
      `storage ${this.storage.url}: a run named ${context.runName} is already there (run id ${id}), and this is another run (${context.runId})`,
      `continue that run with --resume auto (on any machine), or choose another --run-name`,
    );
  }

  /** The last pass, after the final run.json; a server still down leaves the run for `poke storage sync`. */
  private async close(): Promise<void> {
    if (!this.syncer) return;
    const outcome = await this.syncer.drain(LAST_PASS_RETRIES);
    // Its sockets are kept alive for reuse; the run is over.
    this.bucket.client.destroy();
    if (outcome.ok) {
      this.trainer.logger.info(`storage: run mirrored to ${this.storage.url}`);
      return;
    }
    this.trainer.logger.warn(
      `storage: the run is not fully uploaded to ${this.storage.url} (${describe(outcome.error)}); the local run is complete: \`poke storage sync ${this.trainer.context?.runDir ?? 'runs/<name>'}\` uploads the rest, and so does the next --resume`,
    );
  }
}
