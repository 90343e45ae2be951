import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { Spool, readSpool } from './spool.js';
import type { SpoolLine } from './spool.js';
import { readJsonFile, readProgress, writeProgress } from './progress.js';
import type { SpoolProgress } from './progress.js';

/** The file names of a tracker's folder, runs/<run>/<id>/. */
export interface TrackerFileNames<P extends SpoolProgress> {
  /** The tracker's short name: its folder in the run folder, and its CLI command (`poke <id> sync`). */
  id: string;
  /** The write-ahead log of entries to send. */
  spool: string;
  /** Which remote run this poke run is. */
  run: string;
  /** How far the server has the spool. */
  progress: string;
  /** The progress when nothing was delivered yet. */
  nothing: P;
}

/** A tracker's files, as functions of its folder. */
export interface TrackerFiles<E, R, P extends SpoolProgress> {
  readonly names: Readonly<TrackerFileNames<P>>;
  /** runs/<run>/<id>. */
  dir(runDir: string): string;
  /** run.json, or undefined before the first attempt; a damaged one is an error naming the file. */
  readRunFile(dir: string): Promise<R | undefined>;
  writeRunFile(dir: string, run: R): Promise<void>;
  readProgress(dir: string): Promise<P>;
  writeProgress(dir: string, progress: P): Promise<void>;
  /**
   * The progress a sender starts from. A spool shorter than the progress says
   * (edited by hand) is sent again from its start: each tracker asks its server
   * what it has before sending, so nothing arrives twice.
   */
  startingProgress(dir: string, spool: Spool<E>, logger: Logger): Promise<P>;
  /** The spool of a tracker folder, opened for appending. */
  readonly Spool: new (dir: string) => Spool<E>;
  /** Whole lines from `offset`; a last line without its newline (a crash cut it short) is left out. */
  readSpool(path: string, offset: number, maxBytes?: number): Promise<SpoolLine<E>[]>;
}

/** The one definition of a tracker's folder: the plugin, its sender and `poke <id> sync` all read and write it through these. */
export function trackerFiles<E, R, P extends SpoolProgress>(names: TrackerFileNames<P>): TrackerFiles<E, R, P> {
  const progressPath = (dir: string) => join(dir, names.progress);
  const files: TrackerFiles<E, R, P> = {
    names: Object.freeze({ ...names, nothing: Object.freeze({ ...names.nothing }) }),
    dir: (runDir) => join(runDir, names.id),
    readRunFile: (dir) => readJsonFile<R>(join(dir, names.run)),
    writeRunFile: (dir, run) => writeJsonAtomic(join(dir, names.run), run),
    readProgress: (dir) => readProgress(progressPath(dir), names.nothing),
    writeProgress: (dir, progress) => writeProgress(progressPath(dir), progress),
    async startingProgress(dir, spool, logger) {
      const progress = await files.readProgress(dir);
      if (progress.offset <= spool.size) return progress;
      logger.warn(`${names.id}: ${spool.path} is shorter than ${progressPath(dir)} says was delivered; sending it all again`);
      return { ...names.nothing };
    },
    Spool: class extends Spool<E> {
      constructor(dir: string) {
        super(dir, names.spool);
      }
    },
    readSpool: (path, offset, maxBytes) => readSpool<E>(path, offset, maxBytes),
  };
  return files;
}
