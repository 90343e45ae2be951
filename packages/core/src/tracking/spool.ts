import { openSync, writeSync, readSync, closeSync, fstatSync, ftruncateSync, existsSync, mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

/** An entry read back from a spool. */
export interface SpoolLine<E> {
  entry: E;
  /** Byte offset just past this entry's line: where the next read starts once it is delivered. */
  end: number;
}

/**
 * A tracker plugin's write-ahead log, one JSON line per entry. Appends are
 * synchronous so that a `log` tap never awaits; byte offsets into the file say
 * how far a server has it (see progress.ts).
 */
export class Spool<E> {
  readonly path: string;
  private fd: number | undefined;
  private bytes: number;
  private failed = false;

  constructor(readonly dir: string, fileName: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, fileName);
    dropTornTail(this.path);
    this.fd = openSync(this.path, 'a');
    this.bytes = fstatSync(this.fd).size;
  }

  /** Everything appended so far, in bytes. */
  get size(): number {
    return this.bytes;
  }

  /** One write to the page cache, no fsync: training must not wait on the disk for a tracker. */
  append(entry: E): void {
    if (this.fd === undefined) throw new Error('spool is closed');
    const line = Buffer.from(JSON.stringify(entry) + '\n');
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written, line.length - written);
    this.bytes += line.length;
  }

  /**
   * Append unless an earlier append failed. A full disk must not stop training:
   * the first failure is reported once, and the tracker misses what follows.
   */
  tryAppend(entry: E, onFirstFailure: (err: Error) => void): boolean {
    if (this.failed) return false;
    try {
      this.append(entry);
      return true;
    } catch (err) {
      this.failed = true;
      onFirstFailure(err as Error);
      return false;
    }
  }

  read(offset: number, maxBytes = 1 << 20): Promise<SpoolLine<E>[]> {
    return readSpool<E>(this.path, offset, maxBytes);
  }

  /**
   * Atomically replace the undelivered part (after `keepFrom`) with the entries
   * `keep` accepts; the delivered prefix is untouched, so delivered offsets stay valid.
   */
  async rewriteTail(keepFrom: number, keep: (entry: E) => boolean): Promise<number> {
    const text = await readFile(this.path);
    const head = text.subarray(0, keepFrom);
    const kept: string[] = [];
    let dropped = 0;
    for (const line of text.subarray(keepFrom).toString('utf8').split('\n')) {
      if (!line) continue;
      let entry: E;
      try {
        entry = JSON.parse(line) as E;
      } catch {
        dropped++; // a line a crash cut short
        continue;
      }
      if (keep(entry)) kept.push(line + '\n');
      else dropped++;
    }
    if (dropped === 0) return 0;
    this.close();
    await writeFileAtomic(this.path, Buffer.concat([head, Buffer.from(kept.join(''))]));
    this.fd = openSync(this.path, 'a');
    this.bytes = fstatSync(this.fd).size;
    return dropped;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Cut a last line that a crash left without its newline. It never became a
 * whole entry, and the next append would fuse onto it: both entries would then
 * be one damaged line, skipped, and the new one lost.
 */
function dropTornTail(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(1 << 16);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (newline !== -1) {
        if (start + newline + 1 < size) ftruncateSync(fd, start + newline + 1);
        return;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whole lines from `offset`, about `maxBytes` of them: a bounded read, so an
 * outage's backlog never has to fit in memory. A last line without its newline
 * (being written, or cut short by a crash) is left out until it is whole.
 */
export async function readSpool<E>(path: string, offset: number, maxBytes = 1 << 20): Promise<SpoolLine<E>[]> {
  if (!existsSync(path)) return [];
  const handle = await open(path, 'r');
  try {
    const out: SpoolLine<E>[] = [];
    let position = offset;
    let carry = Buffer.alloc(0);
    const chunk = Buffer.alloc(1 << 16);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position + carry.length);
      if (bytesRead === 0) break;
      let data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      let newline: number;
      while ((newline = data.indexOf(0x0a)) !== -1) {
        const line = data.subarray(0, newline).toString('utf8');
        position += newline + 1;
        data = data.subarray(newline + 1);
        if (line) {
          try {
            out.push({ entry: JSON.parse(line) as E, end: position });
          } catch {
            // a damaged line (a crash mid-write, then later appends): skip it
          }
        }
      }
      carry = Buffer.from(data);
      if (position - offset >= maxBytes) break;
    }
    return out;
  } finally {
    await handle.close();
  }
}
