import { open, rename, rm, mkdir } from 'node:fs/promises';
import { openSync, writeSync, fsyncSync, closeSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { failpoint } from './failpoint.js';

/** Temporary names made by writeFileAtomic: `.<name>.tmp-<pid>-<8 hex>`. */
export const ATOMIC_TEMP_PATTERN = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Remove what an interrupted writeFileAtomic left in `dir`. Only safe while
 * nothing else writes there: poke calls it after taking the run folder's lock.
 */
export async function removeAtomicLeftovers(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => ATOMIC_TEMP_PATTERN.test(n));
  for (const name of names) await rm(join(dir, name), { force: true, recursive: true });
  return names;
}

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsync a directory so that a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace `path` with `data` so that a crash leaves either the old file or the
 * new one, never a half: write a temporary sibling, fsync it, rename, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempNameFor(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  failpoint(`atomic-rename:${basename(path)}`);
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Synchronous twin of writeFileAtomic, for exit paths where the event loop may not run again. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempNameFor(path);
  const fd = openSync(temp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < buf.length) offset += writeSync(fd, buf, offset, buf.length - offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  failpoint(`atomic-rename:${basename(path)}`);
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
