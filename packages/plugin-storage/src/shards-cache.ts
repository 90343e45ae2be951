import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { parseStorageUrl, readShardSets, shardsSource, writeJsonAtomic } from '@poke/core';
import type { DataSource, DataSourceContext, ShardsOptions } from '@poke/core';
import type { Bucket, RemoteObject } from './remote.js';

/** What the cache knows of each object it holds: the ETag and size it was downloaded at. */
type CacheIndex = Record<string, { etag: string; size: number }>;

/**
 * Mirror the objects under `url` into `cacheDir`, downloading only those whose
 * ETag or size changed since they were cached; resolves with the local folder.
 * What was downloaded is then checked like any local shard folder (sizes and
 * sha256 against index.json) by readShardSets.
 */
export async function cacheShards(bucket: Bucket, url: string, cacheDir: string, progress: DataSourceContext['progress']): Promise<string> {
  const { prefix } = parseStorageUrl(url);
  const root = join(cacheDir, 's3', bucket.name, createHash('sha256').update(prefix).digest('hex').slice(0, 16));
  const indexPath = join(root, '.cache-index.json');
  const known: CacheIndex = existsSync(indexPath) ? (JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex) : {};
  const from = prefix ? `${prefix}/` : '';
  const objects = (await bucket.list(from)).filter((o) => !o.key.endsWith('/'));
  const stale: RemoteObject[] = [];
  for (const o of objects) if (!(await isCached(root, from, o, known))) stale.push(o);
  let done = 0;
  for (const o of stale) {
    const path = join(root, o.key.slice(from.length));
    await mkdir(dirname(path), { recursive: true });
    await bucket.getFile(o.key, path);
    known[o.key] = { etag: o.etag, size: o.size };
    progress(`shards: downloading ${url} into the cache`, ++done, stale.length);
    // Saved after each file, so an interrupted download keeps what it fetched.
    await writeJsonAtomic(indexPath, known);
  }
  return root;
}

async function isCached(root: string, from: string, o: RemoteObject, known: CacheIndex): Promise<boolean> {
  const entry = known[o.key];
  if (!entry || entry.etag !== o.etag || entry.size !== o.size) return false;
  const size = await stat(join(root, o.key.slice(from.length))).then((s) => s.size, () => -1);
  return size === o.size;
}

/** The `shards` source, taking `data.path: s3://…` through the cache and anything else as the core does. */
export function remoteShardsSource(bucketOf: (url: string) => Bucket): DataSource<ShardsOptions> {
  return {
    ...shardsSource,
    describe: (o) => `shards from ${o.path}${o.path.startsWith('s3://') ? ' (through the local cache)' : ''}`,
    async load(options, context) {
      if (!options.path.startsWith('s3://')) return shardsSource.load(options, context);
      return readShardSets(await cacheShards(bucketOf(options.path), options.path, context.cacheDir, context.progress));
    },
  };
}
