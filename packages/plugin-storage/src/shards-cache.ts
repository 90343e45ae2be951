import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openShardSets } from '@poke/core';
import { shardsSource, parseStorageUrl } from '@poke/core/internal';
import type { DataSource, DataSourceContext, ShardsOptions } from '@poke/core';
import type { Bucket } from './remote.js';
import { mirrorPrefix } from './folder.js';

/**
 * Mirror the shard set(s) under `url` into the cache; resolves with the local
 * folder. What was downloaded is then checked like any local shard folder (sizes
 * and sha256 against index.json) by readShardSets.
 */
export async function cacheShards(bucket: Bucket, url: string, cacheDir: string, progress: DataSourceContext['progress']): Promise<string> {
  const { prefix } = parseStorageUrl(url);
  const root = join(cacheDir, 's3', bucket.name, createHash('sha256').update(prefix).digest('hex').slice(0, 16));
  await mirrorPrefix(bucket, prefix, root, { progress: (done, total) => progress(`shards: downloading ${url} into the cache`, done, total) });
  return root;
}

/** The `shards` source, taking `data.path: s3://…` through the cache and anything else as the core does. */
export function remoteShardsSource(bucketOf: (url: string) => Bucket): DataSource<ShardsOptions> {
  return {
    ...shardsSource,
    describe: (o) => `shards from ${o.path}${o.path.startsWith('s3://') ? ' (through the local cache)' : ''}`,
    async load(options, context) {
      if (!options.path.startsWith('s3://')) return shardsSource.load(options, context);
      return openShardSets(await cacheShards(bucketOf(options.path), options.path, context.cacheDir, context.progress), options.memoryBudgetMB, context);
    },
  };
}
