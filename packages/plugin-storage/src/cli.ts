import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, consoleLogger } from '@poke/core';
import { readRecordedConfig, parseStorageUrl } from '@poke/core/internal';
import type { ResolvedStorageConfig } from '@poke/core';
import { openStorage, checkAccess, checkedStorage, defaultStorageOptions } from './plugin.js';
import { pushCheckpoints, pushRunFiles } from './push.js';
import { pullRunFiles } from './pull.js';
import { uploadFolder } from './folder.js';
import { RunLayout } from './layout.js';
import type { Bucket } from './remote.js';
import { describe } from './errors.js';

interface Context {
  readonly cwd: string;
}

/** --storage, else the storage the run recorded in its config.json. */
async function storageOf(runDir: string, url: string | undefined): Promise<ResolvedStorageConfig> {
  const recorded = (await readRecordedConfig(runDir)) as { storage?: unknown } | undefined;
  const storage = structuredClone(url ? { ...(recorded?.storage as object | undefined), url } : recorded?.storage);
  if (!storage) throw new UserError(`${runDir}: its config.json names no storage`, 'give one with --storage s3://bucket/prefix');
  return checkedStorage(storage, url ? `--storage ${url}` : join(runDir, 'config.json'));
}

/** The storage flags of `poke storage push`, checked as the config's `storage` is. */
function storageFromFlags(url: string, flags: ServerFlags): ResolvedStorageConfig {
  return checkedStorage({ url, ...(flags.endpoint ? { endpoint: flags.endpoint } : {}), ...(flags.region ? { region: flags.region } : {}), forcePathStyle: Boolean(flags.forcePathStyle) }, url);
}

type ServerFlags = { endpoint?: string; region?: string; forcePathStyle?: boolean };

/** The flags that say where the server is, for commands that take an s3:// URL rather than a run. */
function serverOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'an S3-compatible server (default: AWS)')
    .option('--region <name>', 'region (default: AWS_REGION, else us-east-1)')
    .option('--force-path-style', 'address buckets as <endpoint>/<bucket>');
}

/**
 * Open the storage, check that the credentials reach `prefix`, do `work`, close.
 * A failure that is not the user's to fix becomes one line naming what failed.
 */
async function withBucket<T>(storage: ResolvedStorageConfig, prefix: string, what: string, hint: string | undefined, work: (bucket: Bucket) => Promise<T>): Promise<T> {
  const { bucket } = openStorage(storage, defaultStorageOptions());
  try {
    await checkAccess(bucket, storage.url, prefix, consoleLogger);
    return await work(bucket);
  } catch (err) {
    if ((err as Error).name === 'UserError') throw err;
    throw new UserError(`storage ${storage.url}: ${what} failed (${describe(err)})`, hint);
  } finally {
    bucket.client.destroy();
  }
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
      const layout = new RunLayout(parseStorageUrl(storage.url).prefix, basename(runDir));
      const report = await withBucket(storage, layout.root, `sync of ${runDir}`, 'nothing committed half-way; run it again when the server answers', async (bucket) => {
        const pushed = await pushCheckpoints(bucket, layout, join(runDir, 'checkpoints'), consoleLogger);
        await pushRunFiles(bucket, layout, runDir);
        return pushed;
      });
      console.log(`synced ${runDir} to ${storage.url}: ${report.uploaded.length} checkpoint(s) uploaded, ${report.deleted.length} deleted`);
    });
  serverOptions(
    command
      .command('pull')
      .description('bring the run files (run.json, config.json, metrics.csv; no checkpoints) of every run under s3://bucket/prefix into a folder, e.g. for poke compare')
      .argument('<url>', 's3://bucket/prefix that holds runs')
      .argument('<dir>', 'the folder to put them in'),
  ).action(async (url: string, dir: string, flags: ServerFlags) => {
    const { prefix } = parseStorageUrl(url);
    const runs = await withBucket(storageFromFlags(url, flags), prefix, 'pull', undefined, (bucket) => pullRunFiles(bucket, prefix, resolve(context.cwd, dir)));
    console.log(`pulled ${runs.length} run(s) from ${url} into ${dir}${runs.length ? `: ${runs.join(', ')}` : ''}`);
  });
  serverOptions(
    command
      .command('push')
      .description('upload a folder (a shard set from poke data generate) to s3://bucket/prefix, index.json last')
      .argument('<dir>', 'the folder')
      .argument('<url>', 's3://bucket/prefix'),
  ).action(async (dir: string, url: string, flags: ServerFlags) => {
    const { prefix } = parseStorageUrl(url);
    const hint = 'run it again: index.json goes last, so readers never took the partial set';
    const count = await withBucket(storageFromFlags(url, flags), prefix, `upload of ${dir}`, hint, (bucket) => uploadFolder(bucket, prefix, resolve(context.cwd, dir), { last: 'index.json' }));
    console.log(`pushed ${count} file(s) from ${dir} to ${url}`);
  });
}
