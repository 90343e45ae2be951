import { trackerFiles } from '@poke/core';
import type { Spool as TrackerSpool, TrackerProgress } from '@poke/core';

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
export interface Delivered extends TrackerProgress {
  /** History lines on the server: the file_stream offset of the next row. */
  lines: number;
  /** wandb-events.jsonl lines on the server. */
  events: number;
  /** output.log lines on the server. */
  logs: number;
}

export const NOTHING_DELIVERED: Delivered = Object.freeze({ offset: 0, step: -1, lines: 0, events: 0, logs: 0 });

/** runs/<run>/wandb: run.json, the spool offline.jsonl (appended synchronously, one write to the page cache) and state.json. */
export const WANDB_FILES = trackerFiles<SpoolEntry, RunFile, Delivered>({ id: 'wandb', spool: 'offline.jsonl', run: 'run.json', progress: 'state.json', nothing: NOTHING_DELIVERED });

export const { spool: SPOOL_FILE, run: RUN_FILE, progress: STATE_FILE } = WANDB_FILES.names;
export const { readRunFile, writeRunFile, readSpool, Spool, dir: wandbDir, readProgress: readDelivered, writeProgress: writeDelivered } = WANDB_FILES;
export type Spool = TrackerSpool<SpoolEntry>;
