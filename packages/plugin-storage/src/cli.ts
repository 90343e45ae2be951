import { basename, join, resolve } from 'node:path';
import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { UserError, consoleLogger, readRecordedConfig, storageConfigSchema, validateWithSchema, validatePluginOptions, parseStorageUrl } from '@poke/core';
import type { ResolvedStorageConfig } from '@poke/core';
import { openStorage, checkAccess } from './plugin.js';
import { pushCheckpoints, pushRunFiles } from './push.js';
import { pullRunFiles } from './pull.js';
import { storageOptionsSchema } from './schema.js';
import type { ResolvedStorageOptions } from './schema.js';
import { describe } from './errors.js';

interface Context {
  readonly cwd: string;
}

/** --storage, else the storage the run recorded in its config.json. */
async function storageOf(runDir: string, url: string | undefined): Promise<ResolvedStorageConfig> {
  const recorded = (await readRecordedConfig(runDir)) as { storage?: unknown } | undefined;
  const storage = structuredClone(url ? { ...(recorded?.storage as object | undefined), url } : recorded?.storage);
  if (!storage) throw new UserError(`${runDir}: its config.json names no storage`, 'give one with --storage s3://bucket/prefix');
  validateWithSchema(storageConfigSchema, storage, url ? `--storage ${url}` : join(runDir, 'config.json'), 'storage');
  return storage as ResolvedStorageConfig;
}

/** The storage flags of `poke storage push`, checked as the config's `storage` is. */
function storageFromFlags(url: string, flags: { endpoint?: string; region?: string; forcePathStyle?: boolean }): ResolvedStorageConfig {
  const storage = { url, ...(flags.endpoint ? { endpoint: flags.endpoint } : {}), ...(flags.region ? { region: flags.region } : {}), forcePathStyle: Boolean(flags.forcePathStyle) };
  validateWithSchema(storageConfigSchema, storage, url, 'storage');
  return storage as ResolvedStorageConfig;
}

/**
 * Upload a folder's files under `url`, index.json last: a shard set (the output of
 * `poke data generate`) is there for readers once its index is.
 */
async function pushFolder(dir: string, url: string, flags: { endpoint?: string; region?: string; forcePathStyle?: boolean }): Promise<number> {
  const storage = storageFromFlags(url, flags);
  const { bucket } = openStorage(storage, validatePluginOptions<ResolvedStorageOptions>('poke:storage', storageOptionsSchema, {}));
  const { prefix } = parseStorageUrl(url);
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  names.sort((a, b) => Number(a === 'index.json') - Number(b === 'index.json') || (a < b ? -1 : 1));
  try {
    await checkAccess(bucket, url, prefix, consoleLogger);
    for (const name of names) await bucket.putFile(prefix ? `${prefix}/${name}` : name, join(dir, name));
  } catch (err) {
    if ((err as Error).name === 'UserError') throw err;
    throw new UserError(`storage ${url}: upload of ${dir} failed (${describe(err)})`, 'run it again: index.json goes last, so readers never took the partial set');
  } finally {
    bucket.client.destroy();
  }
  return names.length;
}

/** `poke storage sync RUN_DIR`: upload what a run's sessions could not (server down, crash mid-upload), delete what it no longer keeps. */
export default function registerStorage(program: Command, context: Context): void {
  const command = program.commands.find((c) => c.name() === 'storage') ?? program.command('storage').description('runs on S3-compatible object storage');
  command
    .command('sync')
    .description("make the server's copy of a run match the local run: missing checkpoints up (committed last), dropped ones deleted, run.json, config.json and CSV files replaced")
    .argument('<run-dir>', 'a run folder (runs/<name>)')
    .option('--storage <url>', "s3://bucket/prefix (default: the storage in the run's config.json)")
    .action(async (dir: string, flags: { storage?: string }) => {
      const runDir = resolve(context.cwd, dir);
      const storage = await storageOf(runDir, flags.storage);
      const options = validatePluginOptions<ResolvedStorageOptions>('poke:storage', storageOptionsSchema, {});
      const { bucket, layoutOf } = openStorage(storage, options);
      const layout = layoutOf(basename(runDir));
      try {
        await checkAccess(bucket, storage.url, layout.root, consoleLogger);
        const report = await pushCheckpoints(bucket, layout, join(runDir, 'checkpoints'), consoleLogger);
        await pushRunFiles(bucket, layout, runDir);
        console.log(`synced ${runDir} to ${storage.url}: ${report.uploaded.length} checkpoint(s) uploaded, ${report.deleted.length} deleted`);
      } catch (err) {
        if ((err as Error).name === 'UserError') throw err;
        throw new UserError(`storage ${storage.url}: sync of ${runDir} failed (${describe(err)})`, 'nothing committed half-way; run it again when the server answers');
      } finally {
        bucket.client.destroy();
      }
    });
  command
    .command('pull')
    .description('bring the run files (run.json, config.json, metrics.csv; no checkpoints) of every run under s3://bucket/prefix into a folder, e.g. for poke compare')
    .argument('<url>', 's3://bucket/prefix that holds runs')
    .argument('<dir>', 'the folder to put them in')
    .option('--endpoint <url>', 'an S3-compatible server (default: AWS)')
    .option('--region <name>', 'region (default: AWS_REGION, else us-east-1)')
    .option('--force-path-style', 'address buckets as <endpoint>/<bucket>')
    .action(async (url: string, dir: string, flags: { endpoint?: string; region?: string; forcePathStyle?: boolean }) => {
      const storage = storageFromFlags(url, flags);
      const { bucket } = openStorage(storage, validatePluginOptions<ResolvedStorageOptions>('poke:storage', storageOptionsSchema, {}));
      try {
        await checkAccess(bucket, url, parseStorageUrl(url).prefix, consoleLogger);
        const runs = await pullRunFiles(bucket, parseStorageUrl(url).prefix, resolve(context.cwd, dir));
        console.log(`pulled ${runs.length} run(s) from ${url} into ${dir}${runs.length ? `: ${runs.join(', ')}` : ''}`);
      } catch (err) {
        if ((err as Error).name === 'UserError') throw err;
        throw new UserError(`storage ${url}: pull failed (${describe(err)})`);
      } finally {
        bucket.client.destroy();
      }
    });
  command
    .command('push')
    .description('upload a folder (a shard set from poke data generate) to s3://bucket/prefix, index.json last')
    .argument('<dir>', 'the folder')
    .argument('<url>', 's3://bucket/prefix')
    .option('--endpoint <url>', 'an S3-compatible server (default: AWS)')
    .option('--region <name>', 'region (default: AWS_REGION, else us-east-1)')
    .option('--force-path-style', 'address buckets as <endpoint>/<bucket>')
    .action(async (dir: string, url: string, flags: { endpoint?: string; region?: string; forcePathStyle?: boolean }) => {
      const count = await pushFolder(resolve(context.cwd, dir), url, flags);
      console.log(`pushed ${count} file(s) from ${dir} to ${url}`);
    });
}
