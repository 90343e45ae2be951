import { readFile } from 'node:fs/promises';
import type { Logger, Trainer, UserConfig } from '@poke/core';
import checkpoint from '@poke/plugin-checkpoint';
import type { CheckpointOptions } from '@poke/plugin-checkpoint';
import csv from '@poke/plugin-csv';
import { storage } from '@poke/plugin-storage';
import type { StorageOptions } from '@poke/plugin-storage';
import { makeTrainer, smallConfig, tempDir, weightsOf } from '../../core/test/helpers.js';
import { collectRecords, recordingLogger, rowsOf } from '../../plugin-checkpoint/test/helpers.js';
import { S3Server, useS3Server } from '../../../test/s3-server.js';

export { makeTrainer, smallConfig, tempDir, weightsOf, collectRecords, recordingLogger, rowsOf, S3Server, useS3Server };

/** The config's storage for `server`, under `prefix`. */
export function storageConfig(server: S3Server, prefix: string): NonNullable<UserConfig['storage']> & { forcePathStyle: boolean } {
  return { url: `s3://${server.bucket}/${prefix}`, endpoint: server.endpoint, forcePathStyle: true };
}

export interface StorageRun {
  readonly dir: string;
  readonly user: UserConfig;
  readonly checkpoint?: CheckpointOptions;
  readonly storage?: StorageOptions;
  readonly extra?: readonly import('@poke/core').PokePlugin[];
  readonly resume?: string;
  readonly logger?: Logger;
}

/** A trainer with the checkpoint, CSV and storage plugins (the storage from `user.storage`). */
export async function storageTrainer(run: StorageRun): Promise<Trainer> {
  return makeTrainer(smallConfig(run.user), run.dir, {
    plugins: [checkpoint(run.checkpoint ?? {}), csv(), ...(run.extra ?? []), ...(run.user.storage ? [storage(run.storage ?? { retrySeconds: 0.2 })] : [])],
    ...(run.resume ? { resume: run.resume } : {}),
    ...(run.logger ? { logger: run.logger } : {}),
  });
}

export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}
