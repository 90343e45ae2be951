import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic.js';

/** How far a server has a spool; each tracker adds what it needs to avoid duplicates (highest step, lines). */
export interface SpoolProgress {
  /** Bytes of the spool the server has: whole entries only. */
  offset: number;
}

/** A JSON file a tracker keeps (run.json, the progress), or undefined when there is none yet; a damaged one is an error naming it. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is damaged: ${(err as Error).message}`);
  }
}

/** The saved progress, or `nothing` when none was saved yet; fields a file lacks come from `nothing`. */
export async function readProgress<P extends SpoolProgress>(path: string, nothing: P): Promise<P> {
  return { ...nothing, ...(await readJsonFile<Partial<P>>(path)) };
}

/** Replaced atomically: a crash leaves the old offset (entries are sent again and recognized) or the new one, never a torn file. */
export function writeProgress(path: string, progress: SpoolProgress): Promise<void> {
  return writeJsonAtomic(path, progress);
}
