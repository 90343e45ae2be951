import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic, readProgress, writeProgress, Spool as TrackerSpool, readSpool as readTrackerSpool } from '@poke/core';
import type { SpoolLine } from '@poke/core';

/**
 * What the plugin sends, one JSON line each in runs/<run>/wandb/offline.jsonl.
 * The spool is a write-ahead log: every entry is appended before it is sent,
 * and state.json says how far (a byte offset) the server has it.
 */
export type SpoolEntry =
  /** Create or update the W&B run (GraphQL UpsertBucket): its config, name, group, tags, notes. */
  | { t: 'run'; displayName: string; group?: string; notes?: string; tags: string[]; host?: string; config: Record<string, unknown> }
  /** One history row; `row` holds the metrics and `_step`, `_timestamp`, `_runtime` (a non-finite metric as "NaN", "Infinity", "-Infinity"). */
  | { t: 'history'; step: number; row: Record<string, unknown> }
  /** One line of system metrics (wandb-events.jsonl, W&B's System tab): CPU, memory, the process's RSS. */
  | { t: 'events'; row: Record<string, unknown> }
  /** Lines the run wrote to its console (output.log, W&B's Logs tab), written at `at` (ISO) to one stream. */
  | { t: 'console'; at: string; stream: 'stdout' | 'stderr'; lines: string[] }
  /** The run's summary (replaces the previous one). */
  | { t: 'summary'; summary: Record<string, unknown> }
  /**
   * Files to upload (CreateRunFiles, then a PUT to each URL): the given texts, and
   * `output.log` and `wandb-summary.json`, which the sender builds from the spool itself.
   */
  | { t: 'files'; texts: Record<string, string>; derived: Array<'output.log' | 'wandb-summary.json'> }
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
  /** wandb-events.jsonl lines on the server. */
  events: number;
  /** output.log lines on the server. */
  logs: number;
}

export const SPOOL_FILE = 'offline.jsonl';
export const RUN_FILE = 'run.json';
export const STATE_FILE = 'state.json';
export const NOTHING_DELIVERED: Delivered = Object.freeze({ offset: 0, step: -1, lines: 0, events: 0, logs: 0 });

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

export function readDelivered(dir: string): Promise<Delivered> {
  return readProgress(join(dir, STATE_FILE), NOTHING_DELIVERED);
}

export function writeDelivered(dir: string, delivered: Delivered): Promise<void> {
  return writeProgress(join(dir, STATE_FILE), delivered);
}

export type ReadEntry = SpoolLine<SpoolEntry>;

/** runs/<run>/wandb/offline.jsonl: appended synchronously (one write to the page cache), read from an offset. */
export class Spool extends TrackerSpool<SpoolEntry> {
  constructor(dir: string) {
    super(dir, SPOOL_FILE);
  }
}

/** Whole lines from `offset`; a last line without its newline (a crash cut it short) is left out. */
export function readSpool(path: string, offset: number, maxBytes?: number): Promise<ReadEntry[]> {
  return readTrackerSpool<SpoolEntry>(path, offset, maxBytes);
}
