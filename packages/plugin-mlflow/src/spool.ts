import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic, readProgress, writeProgress, Spool as TrackerSpool, readSpool as readTrackerSpool } from '@poke/core';
import type { SpoolLine } from '@poke/core';
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

export const NOTHING_DELIVERED: Delivered = Object.freeze({ offset: 0, step: -1 });

export function readDelivered(dir: string): Promise<Delivered> {
  return readProgress(join(dir, DELIVERED_FILE), NOTHING_DELIVERED);
}

export function writeDelivered(dir: string, delivered: Delivered): Promise<void> {
  return writeProgress(join(dir, DELIVERED_FILE), delivered);
}

export type ReadEntry = SpoolLine<SpoolEntry>;

/** runs/<run>/mlflow/spool.jsonl: appended synchronously (cheap: one write to the page cache), read from an offset. */
export class Spool extends TrackerSpool<SpoolEntry> {
  constructor(dir: string) {
    super(dir, SPOOL_FILE);
  }
}

/** Read whole lines from `offset`; a last line without its newline (a crash cut it short) is left out. */
export function readSpool(path: string, offset: number, maxBytes?: number): Promise<ReadEntry[]> {
  return readTrackerSpool<SpoolEntry>(path, offset, maxBytes);
}
