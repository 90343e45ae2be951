import { openSync, writeSync, closeSync, fstatSync, existsSync, mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@poke/core';

/**
 * What the plugin sends, one JSON line each in runs/<run>/wandb/offline.jsonl.
 * The spool is a write-ahead log: every entry is appended before it is sent,
 * and state.json says how far (a byte offset) the server has it.
 */
export type SpoolEntry =
  /** Create or update the W&B run (GraphQL UpsertBucket): its config, name, group, tags, notes. */
  | { t: 'run'; displayName: string; group?: string; notes?: string; tags: string[]; config: Record<string, unknown> }
  /** One history row; `row` holds the metrics and `_step`, `_timestamp`, `_runtime`. */
  | { t: 'history'; step: number; row: Record<string, unknown> }
  /** The run's summary (replaces the previous one). */
  | { t: 'summary'; summary: Record<string, unknown> }
  /** The run ended with this exit code. */
  | { t: 'finish'; exitcode: number };

/** runs/<run>/wandb/run.json: which W&B run this poke run is. */
export interface RunFile {
  version: 1;
  /** The W&B run id (8 characters, base 36, like W&B's own). */
  id: string;
  project: string;
  /** Undefined until the server named the key's default entity. */
  entity?: string;
  baseUrl: string;
  displayName: string;
  createdAt: string;
}

/** runs/<run>/wandb/state.json. */
export interface Delivered {
  /** Bytes of offline.jsonl the server has (whole entries). */
  offset: number;
  /** Highest history step on the server; a history entry at or below it is never sent. */
  step: number;
  /** History lines on the server: the file_stream offset of the next row. */
  lines: number;
}

export const SPOOL_FILE = 'offline.jsonl';
export const RUN_FILE = 'run.json';
export const STATE_FILE = 'state.json';
export const NOTHING_DELIVERED: Delivered = Object.freeze({ offset: 0, step: -1, lines: 0 });

export function wandbDir(runDir: string): string {
  return join(runDir, 'wandb');
}

async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path} is damaged: ${(err as Error).message}`);
  }
}

export function readRunFile(dir: string): Promise<RunFile | undefined> {
  return readJsonFile<RunFile>(join(dir, RUN_FILE));
}

export function writeRunFile(dir: string, run: RunFile): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILE), run);
}

export async function readDelivered(dir: string): Promise<Delivered> {
  return { ...NOTHING_DELIVERED, ...(await readJsonFile<Delivered>(join(dir, STATE_FILE))) };
}

export function writeDelivered(dir: string, delivered: Delivered): Promise<void> {
  return writeJsonAtomic(join(dir, STATE_FILE), delivered);
}

export interface ReadEntry {
  entry: SpoolEntry;
  /** Byte offset just past this entry's line. */
  end: number;
}

/** The spool file: appended synchronously (one write to the page cache), read from an offset. */
export class Spool {
  readonly path: string;
  private fd: number | undefined;
  private bytes: number;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, SPOOL_FILE);
    this.fd = openSync(this.path, 'a');
    this.bytes = fstatSync(this.fd).size;
  }

  /** Everything appended so far, in bytes. */
  get size(): number {
    return this.bytes;
  }

  append(entry: SpoolEntry): void {
    if (this.fd === undefined) throw new Error('spool is closed');
    const line = Buffer.from(JSON.stringify(entry) + '\n');
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written, line.length - written);
    this.bytes += line.length;
  }

  read(offset: number, maxBytes = 1 << 20): Promise<ReadEntry[]> {
    return readSpool(this.path, offset, maxBytes);
  }

  /**
   * Atomically replace the undelivered part (after `keepFrom`) with the entries
   * `keep` accepts; the delivered prefix is untouched, so delivered offsets stay valid.
   */
  async rewriteTail(keepFrom: number, keep: (entry: SpoolEntry) => boolean): Promise<number> {
    const text = await readFile(this.path);
    const head = text.subarray(0, keepFrom);
    const kept: string[] = [];
    let dropped = 0;
    for (const line of text.subarray(keepFrom).toString('utf8').split('\n')) {
      if (!line) continue;
      let entry: SpoolEntry;
      try {
        entry = JSON.parse(line) as SpoolEntry;
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

/** Whole lines from `offset`; a last line without its newline (a crash cut it short) is left out. */
export async function readSpool(path: string, offset: number, maxBytes = 1 << 20): Promise<ReadEntry[]> {
  if (!existsSync(path)) return [];
  const handle = await open(path, 'r');
  try {
    const out: ReadEntry[] = [];
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
            out.push({ entry: JSON.parse(line) as SpoolEntry, end: position });
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
