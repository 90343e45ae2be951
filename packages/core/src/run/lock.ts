import { openSync, writeSync, closeSync, readFileSync, renameSync, unlinkSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';

interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
}

export const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    writeSync(fd, JSON.stringify(info));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A lock left by a process of this machine that no longer runs (killed, crashed). */
function isStale(info: LockInfo | undefined): boolean {
  if (!info) return true; // unreadable: a crash between create and write
  return info.hostname === hostname() && !alive(info.pid);
}

/**
 * One trainer per run folder: `runs/<run>/.lock` holds the owner's pid. A lock
 * whose process is gone is taken over; a live one is a clear error. Returns a
 * release function (also run on process exit).
 */
export function lockRunDir(runDir: string): () => void {
  const path = join(runDir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path)) return releaser(path);
    const info = readLock(path);
    if (!isStale(info)) {
      throw new UserError(
        `run folder ${runDir} is in use by process ${info!.pid} on ${info!.hostname} (since ${info!.startedAt})`,
        'wait for it to finish, or use another --run-name',
      );
    }
    // Move the stale lock aside atomically; if a racer replaced it with a live one meanwhile, put that back.
    const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = readLock(aside);
    if (moved && !isStale(moved)) {
      try {
        renameSync(aside, path);
      } catch {
        // the racer's lock is gone either way; retry
      }
      continue;
    }
    unlinkSync(aside);
  }
  throw new UserError(`could not lock run folder ${runDir}: another process keeps taking it`);
}

function releaser(path: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const info = readLock(path);
    if (info?.pid === process.pid && existsSync(path)) unlinkSync(path);
  };
  process.on('exit', release);
  return release;
}
