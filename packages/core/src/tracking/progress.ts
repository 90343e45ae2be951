import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/atomic.js';

/** How far a server has a spool; each tracker adds what it needs to avoid duplicates (highest step, lines). */
export interface SpoolProgress {
  /** Bytes of the spool the server has: whole entries only. */
  offset: number;
}

/** The saved progress, or `nothing` when none was saved yet; fields a file lacks come from `nothing`. */
export async function readProgress<P extends SpoolProgress>(path: string, nothing: P): Promise<P> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...nothing };
    throw err;
  }
  try {
    return { ...nothing, ...(JSON.parse(text) as Partial<P>) };
  } catch (err) {
    throw new Error(`${path} is damaged: ${(err as Error).message}`);
  }
}

/** Replaced atomically: a crash leaves the old offset (entries are sent again and recognized) or the new one, never a torn file. */
export function writeProgress(path: string, progress: SpoolProgress): Promise<void> {
  return writeJsonAtomic(path, progress);
}
