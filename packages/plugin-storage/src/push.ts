import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { failpoint } from '@poke/core/internal';
import type { Logger } from '@poke/core';
import { readManifest } from '@poke/plugin-checkpoint/hooks';
import type { Bucket, FileDigest } from './remote.js';
import type { RunLayout } from './layout.js';
import { MARKER_FORMAT } from './marker.js';
import type { CommitMarker } from './marker.js';

/** What one pass changed on the server. */
export interface PushReport {
  readonly uploaded: string[];
  readonly deleted: string[];
}

/** Files of a run folder that are mirrored as they are (each object replaced whole). */
export const RUN_FILES = ['run.json', 'config.json'];

/** run.json, config.json and every CSV file at the top of the run folder (metrics.csv, its split files). */
export async function pushRunFiles(bucket: Bucket, layout: RunLayout, runDir: string): Promise<void> {
  const names = await readdir(runDir).catch(() => [] as string[]);
  const wanted = names.filter((n) => RUN_FILES.includes(n) || n.endsWith('.csv'));
  // run.json last: on the server, a run exists once its run.json does.
  wanted.sort((a, b) => Number(a === 'run.json') - Number(b === 'run.json'));
  // Read whole first: metrics.csv grows while it goes up, and the copy must be one moment's file.
  for (const name of wanted) await bucket.putBytes(layout.file(name), await readFile(join(runDir, name)));
}

/**
 * Make the server's checkpoints those of the local manifest: upload the missing
 * ones (newest first: after a preemption the newest matters most), then delete
 * the ones the manifest no longer lists. A checkpoint goes up files first and
 * its commit marker last, and goes away marker first, so a reader never sees a
 * partial one, and a pass cut short by a crash is finished by the next.
 */
export async function pushCheckpoints(bucket: Bucket, layout: RunLayout, checkpointsDir: string, logger: Logger): Promise<PushReport> {
  const manifest = await readManifest(checkpointsDir).catch(() => undefined);
  // Without a manifest to trust, what the run keeps is unknown: delete nothing remotely.
  if (!manifest) return { uploaded: [], deleted: [] };
  const local = new Set(manifest.entries.map((e) => e.id));
  const objects = await bucket.list(layout.checkpoints);
  const committed = new Set(objects.map((o) => layout.markerId(o.key)).filter((id): id is string => id !== undefined));
  const uploaded: string[] = [];
  for (const entry of [...manifest.entries].sort((a, b) => b.step - a.step)) {
    if (committed.has(entry.id)) continue;
    if (await pushCheckpoint(bucket, layout, checkpointsDir, entry.id)) uploaded.push(entry.id);
  }
  const deleted: string[] = [];
  for (const id of committed) {
    if (local.has(id)) continue;
    await bucket.delete(layout.marker(id));
    deleted.push(id);
  }
  // Files of no committed checkpoint: deletions just done, or uploads a crash cut short.
  const kept = new Set([...committed, ...uploaded].filter((id) => local.has(id)));
  for (const o of objects) {
    const id = layout.folderId(o.key);
    if (id !== undefined && !kept.has(id)) await bucket.delete(o.key);
  }
  for (const id of deleted) logger.info(`storage: deleted checkpoint ${id} remotely (no longer kept locally)`);
  return { uploaded, deleted };
}

/**
 * Upload one checkpoint folder and commit it; false when the folder went away
 * meanwhile (retention deleted it), in which case nothing is committed.
 */
async function pushCheckpoint(bucket: Bucket, layout: RunLayout, checkpointsDir: string, id: string): Promise<boolean> {
  const dir = join(checkpointsDir, id);
  const files: Record<string, FileDigest> = {};
  try {
    for (const name of (await readdir(dir)).sort()) files[name] = await bucket.putFile(layout.checkpointFile(id, name), join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  failpoint('storage-before-commit');
  const marker: CommitMarker = { format: MARKER_FORMAT, id, committedAt: new Date().toISOString(), files };
  await bucket.putBytes(layout.marker(id), JSON.stringify(marker, null, 2) + '\n');
  return true;
}
