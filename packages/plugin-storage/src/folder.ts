import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { writeJsonAtomic } from '@poke/core';
import type { Bucket, RemoteObject } from './remote.js';

/** What a mirror folder knows of each object it holds: the ETag and size it was downloaded at. */
type MirrorIndex = Record<string, { etag: string; size: number }>;

const MIRROR_INDEX = '.mirror-index.json';

export interface MirrorOptions {
  /** Which objects to bring, by path relative to the prefix; default all. */
  readonly include?: (path: string) => boolean;
  readonly progress?: (done: number, total: number) => void;
}

/**
 * Mirror the objects under `prefix` into `dir`, downloading only those whose
 * ETag or size changed since they were mirrored there. The index is saved after
 * each file, so an interrupted mirror keeps what it fetched.
 */
export async function mirrorPrefix(bucket: Bucket, prefix: string, dir: string, options: MirrorOptions = {}): Promise<void> {
  const indexPath = join(dir, MIRROR_INDEX);
  const known: MirrorIndex = existsSync(indexPath) ? (JSON.parse(await readFile(indexPath, 'utf8')) as MirrorIndex) : {};
  const from = prefix ? `${prefix}/` : '';
  const wanted = (await bucket.list(from)).filter((o) => !o.key.endsWith('/') && (options.include?.(o.key.slice(from.length)) ?? true));
  const stale: RemoteObject[] = [];
  for (const o of wanted) if (!(await isMirrored(dir, from, o, known))) stale.push(o);
  let done = 0;
  for (const o of stale) {
    const path = join(dir, o.key.slice(from.length));
    await mkdir(dirname(path), { recursive: true });
    await bucket.getFile(o.key, path);
    known[o.key] = { etag: o.etag, size: o.size };
    options.progress?.(++done, stale.length);
    await writeJsonAtomic(indexPath, known);
  }
}

async function isMirrored(dir: string, from: string, o: RemoteObject, known: MirrorIndex): Promise<boolean> {
  const entry = known[o.key];
  if (!entry || entry.etag !== o.etag || entry.size !== o.size) return false;
  const size = await stat(join(dir, o.key.slice(from.length))).then((s) => s.size, () => -1);
  return size === o.size;
}

/**
 * Upload the files of `dir` (not its sub-folders) under `prefix`, `last` after all
 * the others, so a reader waiting for it (a shard set's index.json) never takes a
 * partial set. Resolves with how many files went up.
 */
export async function uploadFolder(
  bucket: Bucket,
  prefix: string,
  dir: string,
  options: { last?: string; progress?: (done: number, total: number) => void } = {},
): Promise<number> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  names.sort((a, b) => Number(a === options.last) - Number(b === options.last) || (a < b ? -1 : 1));
  let done = 0;
  for (const name of names) {
    await bucket.putFile(prefix ? `${prefix}/${name}` : name, join(dir, name));
    options.progress?.(++done, names.length);
  }
  return names.length;
}
