import { openSync, writeSync, closeSync, fstatSync, existsSync, mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@poke/core';
import type { RunStatus } from './client.js';

/**
 * What the plugin sends, one JSON line each in runs/<run>/mlflow/spool.jsonl.
 * The spool is a write-ahead log: every entry is appended before it is sent,
 * and delivered.json says how far (a byte offset) the server has it.
 */
export type SpoolEntry =
  | { t: 'metrics'; step: number; ts: number; m: Record<string, number | string> }
  | { t: 'params'; params: Record<string, string> }
  | { t: 'tags'; tags: Record<string, string> }
  | { t: 'status'; status: RunStatus; ts: number }
  | { t: 'artifacts'; id: string; dir: string; path: string; best: boolean };

/** runs/<run>/mlflow/run.json: which MLflow run this poke run is. */
export interface RunFile {
  version: 1;
  /** Without credentials. */
  trackingUri: string;
  experiment: string;
  experimentId?: string;
  /** Set once the server created the run; until then the run exists only in the spool. */
  runId?: string;
  artifactUri?: string;
  runName: string;
  /** Milliseconds; the MLflow run's start_time, also when it is created later by `sync`. */
  startTime: number;
}

/** runs/<run>/mlflow/delivered.json. */
export interface Delivered {
  /** Bytes of spool.jsonl the server has (whole entries). */
  offset: number;
  /** Highest metrics step on the server; a metrics entry at or below it is never sent. */
  step: number;
}

export const SPOOL_FILE = 'spool.jsonl';
export const RUN_FILE = 'run.json';
export const DELIVERED_FILE = 'delivered.json';

export function mlflowDir(runDir: string): string {
  return join(runDir, 'mlflow');
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function readRunFile(dir: string): Promise<RunFile | undefined> {
  return readJsonFile<RunFile>(join(dir, RUN_FILE));
}

export function writeRunFile(dir: string, run: RunFile): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILE), run);
}

export async function readDelivered(dir: string): Promise<Delivered> {
  return (await readJsonFile<Delivered>(join(dir, DELIVERED_FILE))) ?? { offset: 0, step: -1 };
}

export function writeDelivered(dir: string, delivered: Delivered): Promise<void> {
  return writeJsonAtomic(join(dir, DELIVERED_FILE), delivered);
}

export interface ReadEntry {
  entry: SpoolEntry;
  /** Byte offset just past this entry's line. */
  end: number;
}

/** The spool file: appended synchronously (cheap: one write to the page cache), read from an offset. */
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

  /** Size of the file: everything appended so far. */
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

  /** Whole entries from `offset`, about `maxBytes` of them at most. */
  async read(offset: number, maxBytes = 1 << 20): Promise<ReadEntry[]> {
    return readSpool(this.path, offset, maxBytes);
  }

  /**
   * Atomically replace the undelivered part (after `keepUpTo`) with the entries
   * `keep` accepts; the delivered prefix is untouched, so delivered offsets stay valid.
   */
  async rewriteTail(keepUpTo: number, keep: (entry: SpoolEntry) => boolean): Promise<number> {
    const text = await readFile(this.path);
    const head = text.subarray(0, keepUpTo);
    const tail = text.subarray(keepUpTo).toString('utf8').split('\n');
    const kept: string[] = [];
    let dropped = 0;
    for (const line of tail) {
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

/** Read whole lines from `offset`; a last line without its newline (a crash cut it short) is left out. */
export async function readSpool(path: string, offset: number, maxBytes = 1 << 20): Promise<ReadEntry[]> {
  if (!existsSync(path)) return [];
  const handle = await open(path, 'r');
  try {
    const out: ReadEntry[] = [];
    let position = offset;
    let carry = Buffer.alloc(0);
    const chunk = Buffer.alloc(Math.min(maxBytes, 1 << 20));
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
            // a damaged line (a crash mid-write followed by later appends): skip it
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
