import { trackerFiles } from '@poke/core';
import type { Spool as TrackerSpool, TrackerProgress } from '@poke/core';
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

/** runs/<run>/mlflow/delivered.json: bytes of spool.jsonl the server has, and its highest metrics step. */
export type Delivered = TrackerProgress;

export const NOTHING_DELIVERED: Delivered = Object.freeze({ offset: 0, step: -1 });

/** runs/<run>/mlflow: run.json, the spool spool.jsonl (appended synchronously, one write to the page cache) and delivered.json. */
export const MLFLOW_FILES = trackerFiles<SpoolEntry, RunFile, Delivered>({ id: 'mlflow', spool: 'spool.jsonl', run: 'run.json', progress: 'delivered.json', nothing: NOTHING_DELIVERED });

export const { spool: SPOOL_FILE, run: RUN_FILE, progress: DELIVERED_FILE } = MLFLOW_FILES.names;
export const { readRunFile, writeRunFile, readSpool, Spool, dir: mlflowDir, readProgress: readDelivered, writeProgress: writeDelivered } = MLFLOW_FILES;
export type Spool = TrackerSpool<SpoolEntry>;
