import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, consoleLogger, readRecordedConfig, storageConfigSchema, validateWithSchema, validatePluginOptions } from '@poke/core';
import type { ResolvedStorageConfig } from '@poke/core';
import { openStorage, checkAccess } from './plugin.js';
import { pushCheckpoints, pushRunFiles } from './push.js';
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
}
