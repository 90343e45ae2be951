import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '@poke/core';
import { fsyncDir, ATOMIC_TEMP_PATTERN, failpoint } from '@poke/core/internal';
import type { Logger, MonitorMode } from '@poke/core';
import type { CheckpointContent, LoadedCheckpoint, Manifest, ManifestEntry } from './types.js';
import { checkpointId, readCheckpoint, writeCheckpointFiles } from './format.js';
import { readMetadata } from './read-json.js';
import { METADATA_FILE } from './json-schemas.js';
import { readManifest, writeManifest, emptyManifest, bestOf, latestOf, byStep } from './manifest.js';
import { pointLink } from './links.js';
import { CheckpointError } from './errors.js';
import { CHECKPOINT_ID_PATTERN } from './json-schemas.js';

const ID = new RegExp(CHECKPOINT_ID_PATTERN);
const TEMP_PREFIX = '.tmp-';
/** Where checkpoints that failed verification are kept, out of the manifest's way. */
export const CORRUPT_DIR = 'corrupt';

export interface ManagerOptions {
  readonly monitor: { readonly name: string; readonly mode: MonitorMode };
  readonly logger?: Logger;
}

export interface ReconcileReport {
  readonly removedTemp: string[];
  readonly dropped: string[];
  readonly reindexed: string[];
  readonly manifestRebuilt: boolean;
}

export interface VerifyResult {
  readonly id: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Owns `runs/<run>/checkpoints/`: saves folders atomically, keeps the manifest
 * (entries, best, latest) and the best/latest links, loads and verifies.
 * Every change to the manifest goes through one queue, so a background save and
 * a pruning plugin never interleave.
 */
export class CheckpointManager {
  private manifest: Manifest;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pinned = new Set<string>();
  readonly logger: Logger;

  private constructor(
    readonly dir: string,
    manifest: Manifest,
    readonly monitor: ManagerOptions['monitor'],
    logger: Logger,
  ) {
    this.manifest = manifest;
    this.logger = logger;
  }

  /**
   * Open the checkpoints folder. With `repair`, leftovers of a crash are cleaned
   * up and the manifest is reconciled with the folders on disk (a writer's start);
   * without, the folder is only read (the CLI).
   */
  static async open(dir: string, options: ManagerOptions & { repair?: boolean | 'in-memory' }): Promise<CheckpointManager> {
    const logger = options.logger ?? silentLogger;
    let manifest: Manifest | undefined;
    try {
      manifest = await readManifest(dir);
    } catch (err) {
      if (!options.repair) throw err;
      logger.warn(`${(err as Error).message}; rebuilding it from the checkpoint folders`);
    }
    // A reader keeps the monitor the checkpoints were saved with; a writer brings its own.
    const monitor = !options.repair && manifest ? manifest.monitor : options.monitor;
    const manager = new CheckpointManager(dir, manifest ?? emptyManifest(monitor), monitor, logger);
    if (options.repair === 'in-memory') {
      await manager.reconcile(manifest === undefined, false);
    } else if (options.repair) {
      await mkdir(dir, { recursive: true });
      await manager.reconcile(manifest === undefined);
    }
    return manager;
  }

  list(): readonly ManifestEntry[] {
    return [...this.manifest.entries].sort(byStep);
  }

  getBest(): ManifestEntry | undefined {
    return this.manifest.entries.find((e) => e.id === this.manifest.best);
  }

  getLatest(): ManifestEntry | undefined {
    return this.manifest.entries.find((e) => e.id === this.manifest.latest);
  }

  get currentManifest(): Manifest {
    return this.manifest;
  }

  pathOf(id: string): string {
    if (!ID.test(id)) throw new CheckpointError(id, undefined, 'not a checkpoint id (epochEEEE-stepSSSSSSSS)');
    return join(this.dir, id);
  }

  /** Run `fn` after every earlier manifest change has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Save atomically: files into a temporary folder (each fsynced), rename it into
   * place, fsync the parent, then replace the manifest. A crash at any point
   * leaves the previous manifest and checkpoints intact.
   */
  save(content: CheckpointContent): Promise<{ entry: ManifestEntry; isBest: boolean; skipped: boolean }> {
    return this.exclusive(async () => {
      const id = checkpointId(content.epoch, content.step);
      const existing = this.manifest.entries.find((e) => e.id === id);
      if (existing) return { entry: existing, isBest: this.manifest.best === id, skipped: true };
      const temp = join(this.dir, `${TEMP_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
      await mkdir(temp, { recursive: true });
      try {
        await writeCheckpointFiles(temp, id, content);
        await fsyncDir(temp);
        failpoint('checkpoint-before-rename');
        await rm(join(this.dir, id), { recursive: true, force: true });
        await rename(temp, join(this.dir, id));
      } catch (err) {
        await rm(temp, { recursive: true, force: true });
        throw err;
      }
      await fsyncDir(this.dir);
      failpoint('checkpoint-before-manifest');
      const bytes = await folderBytes(join(this.dir, id));
      const entry: ManifestEntry = {
        id,
        epoch: content.epoch,
        step: content.step,
        timestamp: new Date().toISOString(),
        value: content.monitor.value,
        bytes,
        reason: content.reason,
      };
      const entries = [...this.manifest.entries, entry];
      const best = bestOf(entries, this.monitor.mode);
      await this.commit({ ...this.manifest, entries, best: best?.id ?? null, latest: latestOf(entries)!.id });
      return { entry, isBest: best?.id === id, skipped: false };
    });
  }

  /**
   * Delete checkpoints, each with the reason it goes: the manifest is rewritten
   * first, folders removed after, so a crash in between leaves orphan folders
   * that the next start re-indexes. Pinned checkpoints (being read by a resume)
   * are never deleted. Returns what was deleted.
   */
  remove(doomed: ReadonlyArray<{ readonly id: string; readonly reason: string }>): Promise<string[]> {
    return this.exclusive(async () => {
      const listed = new Set(this.manifest.entries.map((e) => e.id));
      const go = doomed.filter((d) => listed.has(d.id) && !this.pinned.has(d.id));
      if (go.length === 0) return [];
      const ids = new Set(go.map((d) => d.id));
      const entries = this.manifest.entries.filter((e) => !ids.has(e.id));
      const best = this.manifest.best && !ids.has(this.manifest.best) ? this.manifest.best : (bestOf(entries, this.monitor.mode)?.id ?? null);
      const deleting = [...(this.manifest.deleting ?? []), ...ids];
      await this.commit({ ...this.manifest, entries, best, latest: latestOf(entries)?.id ?? null, deleting });
      failpoint('prune-before-rm');
      for (const { id, reason } of go) {
        await rm(join(this.dir, id), { recursive: true, force: true });
        this.logger.info(`checkpoint: deleted ${id} (${reason})`);
      }
      await fsyncDir(this.dir);
      await this.commit(withoutDeleting(this.manifest));
      return go.map((d) => d.id);
    });
  }

  /**
   * Move a checkpoint that failed verification out of the way, into
   * `corrupt/<id>-<stamp>/`, and drop it from the manifest; best and latest are
   * re-decided. Kept rather than deleted, for whoever wants to know what went wrong.
   * The folder moves first: a crash before the manifest is written leaves an
   * entry without a folder, which the next start drops.
   */
  quarantine(id: string, why: string): Promise<string | undefined> {
    return this.exclusive(async () => {
      if (!this.manifest.entries.some((e) => e.id === id)) return undefined;
      const aside = join(this.dir, CORRUPT_DIR, `${id}-${new Date().toISOString().replace(/[-:.]/g, '')}`);
      await mkdir(join(this.dir, CORRUPT_DIR), { recursive: true });
      await rename(join(this.dir, id), aside).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await fsyncDir(this.dir);
      const entries = this.manifest.entries.filter((e) => e.id !== id);
      await this.commit({
        ...this.manifest,
        entries,
        best: this.manifest.best === id ? (bestOf(entries, this.monitor.mode)?.id ?? null) : this.manifest.best,
        latest: latestOf(entries)?.id ?? null,
      });
      this.logger.warn(`checkpoint ${id} failed verification (${why}); moved to ${aside} and left out of the manifest`);
      return aside;
    });
  }

  /** Checkpoints a resume is reading right now. */
  get pinnedIds(): ReadonlySet<string> {
    return this.pinned;
  }

  /** Wait until every queued save and deletion has finished. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private async commit(manifest: Manifest): Promise<void> {
    await writeManifest(this.dir, manifest);
    this.manifest = manifest;
    await pointLink(this.dir, 'best', manifest.best);
    await pointLink(this.dir, 'latest', manifest.latest);
  }

  /**
   * Remove temporary folders, drop entries whose folder is gone, re-index complete
   * folders the manifest lacks. With `write` false the result is only kept in memory:
   * a resume checks what it would continue from before anything on disk changes.
   */
  async reconcile(rebuild = false, write = true): Promise<ReconcileReport> {
    return this.exclusive(async () => {
      // Warnings are for the pass that repairs; an in-memory pass is followed by one.
      const logger = write ? this.logger : silentLogger;
      const names = await readdir(this.dir).catch(() => [] as string[]);
      const removedTemp: string[] = [];
      const remove = async (name: string) => {
        if (write) await rm(join(this.dir, name), { recursive: true, force: true });
        removedTemp.push(name);
      };
      for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX) || /^\.(best|latest)\.tmp-/.test(n) || ATOMIC_TEMP_PATTERN.test(n))) {
        await remove(name);
      }
      // A deletion interrupted by a crash: finish it rather than re-index the folder.
      for (const id of this.manifest.deleting ?? []) {
        if (names.includes(id)) await remove(id);
      }
      const folders = new Set(names.filter((n) => ID.test(n) && !(this.manifest.deleting ?? []).includes(n)));
      const dropped = this.manifest.entries.filter((e) => !folders.has(e.id)).map((e) => e.id);
      for (const id of dropped) logger.warn(`checkpoint ${id} is listed in the manifest but its folder is gone; dropped from the manifest`);
      const entries = this.manifest.entries.filter((e) => folders.has(e.id));
      const reindexed: string[] = [];
      for (const id of folders) {
        if (entries.some((e) => e.id === id)) continue;
        const metadata = await readMetadata(join(this.dir, id)).catch(() => undefined);
        if (!metadata || metadata.id !== id) {
          logger.warn(`checkpoint folder ${id} has no readable metadata.json; left alone`);
          continue;
        }
        entries.push({
          id,
          epoch: metadata.epoch,
          step: metadata.step,
          timestamp: metadata.timestamp,
          value: metadata.monitor.name === this.monitor.name ? metadata.monitor.value : null,
          bytes: await folderBytes(join(this.dir, id)),
          reason: metadata.reason ?? 'manual',
        });
        reindexed.push(id);
      }
      if (reindexed.length && !rebuild) logger.warn(`re-indexed checkpoint folders missing from the manifest: ${reindexed.join(', ')}`);
      const monitorChanged = this.manifest.monitor.name !== this.monitor.name || this.manifest.monitor.mode !== this.monitor.mode;
      const fixed = monitorChanged ? await this.revalue(entries, logger) : entries;
      const best = bestOf(fixed, this.monitor.mode)?.id ?? null;
      const latest = latestOf(fixed)?.id ?? null;
      const manifest: Manifest = { ...withoutDeleting(this.manifest), monitor: this.monitor, entries: fixed.sort(byStep), best, latest };
      if (!write) {
        this.manifest = manifest;
      } else if (rebuild || (this.manifest.deleting?.length ?? 0) > 0 || removedTemp.length || dropped.length || reindexed.length || monitorChanged || best !== this.manifest.best || latest !== this.manifest.latest) {
        await this.commit(manifest);
      } else {
        await pointLink(this.dir, 'best', best);
        await pointLink(this.dir, 'latest', latest);
      }
      return { removedTemp, dropped, reindexed, manifestRebuilt: rebuild };
    });
  }

  /** The monitor changed between runs: take each checkpoint's value of the new metric from its metadata. */
  private async revalue(entries: ManifestEntry[], logger: Logger): Promise<ManifestEntry[]> {
    logger.warn(
      `checkpoint monitor changed from ${this.manifest.monitor.name} (${this.manifest.monitor.mode}) to ${this.monitor.name} (${this.monitor.mode}); best re-decided`,
    );
    const out: ManifestEntry[] = [];
    for (const e of entries) {
      const metadata = await readMetadata(join(this.dir, e.id)).catch(() => undefined);
      const value = e.reason === 'validation' ? (metadata?.metrics?.[this.monitor.name] ?? null) : null;
      out.push({ ...e, value });
    }
    return out;
  }

  /**
   * Load and verify `which`: `latest` (falling back to the newest checkpoint that
   * verifies, saying which it skipped), `best`, an id, or a path to a checkpoint folder.
   */
  async load(which: string): Promise<LoadedCheckpoint> {
    if (which === 'latest') return this.loadLatestThatVerifies();
    if (which === 'best') {
      const best = this.getBest();
      if (!best) throw new CheckpointError('best', undefined, `no best checkpoint in ${this.dir}`);
      return this.loadPinned(join(this.dir, best.id));
    }
    if (ID.test(which) && this.manifest.entries.some((e) => e.id === which)) return this.loadPinned(join(this.dir, which));
    const path = resolve(which);
    const exists = await stat(join(path, METADATA_FILE)).then(() => true, () => false);
    if (!exists) throw new CheckpointError(which, undefined, 'not found: expected latest, best, a checkpoint id or a checkpoint folder');
    return this.loadPinned(path);
  }

  /** Checkpoints that failed verification while this manager loaded, newest first, with why. */
  readonly failedVerification: Array<{ id: string; error: string }> = [];

  private async loadLatestThatVerifies(): Promise<LoadedCheckpoint> {
    const candidates = [...this.list()].reverse();
    if (candidates.length === 0) throw new CheckpointError('latest', undefined, `no checkpoints in ${this.dir}`);
    const skipped: string[] = [];
    for (const entry of candidates) {
      try {
        const loaded = await this.loadPinned(join(this.dir, entry.id));
        if (skipped.length) this.logger.warn(`resume: skipped checkpoints that failed verification: ${skipped.join('; ')}; using ${entry.id}`);
        return loaded;
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        skipped.push(err.message);
        this.failedVerification.push({ id: entry.id, error: err.message });
      }
    }
    throw new CheckpointError('latest', undefined, `no checkpoint verifies: ${skipped.join('; ')}`);
  }

  private async loadPinned(dir: string): Promise<LoadedCheckpoint> {
    const id = basename(dir);
    this.pinned.add(id);
    try {
      return await readCheckpoint(dir);
    } catch (err) {
      this.pinned.delete(id);
      throw err;
    }
  }

  /** Allow deleting a checkpoint a resume has finished reading. */
  unpin(id: string): void {
    this.pinned.delete(id);
  }

  async verify(id: string): Promise<VerifyResult> {
    try {
      await readCheckpoint(this.pathOf(id));
      return { id, ok: true };
    } catch (err) {
      if (err instanceof CheckpointError) return { id, ok: false, error: err.message };
      throw err;
    }
  }

  async verifyAll(): Promise<VerifyResult[]> {
    const results: VerifyResult[] = [];
    for (const entry of this.list()) results.push(await this.verify(entry.id));
    return results;
  }
}

function withoutDeleting(manifest: Manifest): Manifest {
  const { deleting: _done, ...rest } = manifest;
  return rest;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}
