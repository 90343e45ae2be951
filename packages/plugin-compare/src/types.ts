import type { MonitorMode } from '@poke/core';
import type { EvalResult } from './eval.js';

export type RunState = 'completed' | 'interrupted' | 'failed' | 'running' | 'crashed' | 'unknown';

/** One run in a comparison. Missing values are null, never 0: 0.0 is a value. */
export interface CompareRow {
  readonly name: string;
  readonly path: string;
  readonly status: RunState;
  /** The ranking key and how it was obtained. */
  readonly metric: string;
  readonly mode: MonitorMode;
  readonly value: number | null;
  /** Where the value came from: the manifest's best checkpoint, the best row of metrics.csv, or the newest eval*.json (`win_rate`). */
  readonly valueSource: 'best-checkpoint' | 'metrics.csv' | 'eval' | null;
  /** The global step the value belongs to (the best checkpoint's, or the metrics.csv row's); null for eval files. */
  readonly valueStep: number | null;
  /** 1 for the best; null for runs without the metric. */
  readonly rank: number | null;
  readonly bestCheckpoint: string | null;
  readonly epoch: number | null;
  readonly step: number | null;
  readonly trainLoss: number | null;
  readonly valLoss: number | null;
  readonly valAccuracy: number | null;
  readonly parameters: number | null;
  /** From run.json: createdAt → updatedAt (the last status write; includes pauses between resumes). */
  readonly wallSeconds: number | null;
  /** Win rate of the newest Showdown evaluation (`eval*.json`); null when the run has none. */
  readonly winRate: number | null;
  /** The opponent of that evaluation. */
  readonly winRateVs: string | null;
  /** Every readable evaluation, oldest first. */
  readonly evals: readonly EvalResult[];
  /** Where the run's weights started (`poke train --init-from`), from run.json; null for a run trained from scratch. */
  readonly parent: { readonly run: string | null; readonly runId: string | null; readonly checkpoint: string } | null;
  /**
   * Config keys (dotted, values as JSON text) whose value differs between the
   * compared runs; every key with `allParams`. null: the run has no such key.
   */
  readonly config: Readonly<Record<string, string | null>>;
  /** Why the metric is missing (no checkpoints, unreadable manifest, still running, …). */
  readonly reason: string | null;
}

/** A metric over steps, from metrics.csv, for plots. */
export type Series = Record<string, Array<[step: number, value: number]>>;

export type { EvalResult };

export interface RunData {
  readonly row: CompareRow;
  readonly series: Series;
  /** What was read around, for the user (lines of metrics.csv that did not parse). */
  readonly warnings: readonly string[];
  /** The whole config.json as dotted keys; `row.config` shows the part that matters. */
  readonly params: Readonly<Record<string, string>>;
}

export interface CompareOptions {
  /** Any logged metric. @default "val_loss" */
  readonly metric?: string;
  /** Default: max for accuracy-like names, min otherwise. */
  readonly mode?: MonitorMode;
  /** Use only evaluations against this opponent (`poke eval --vs`); default: the newest of any. */
  readonly opponent?: string;
  /** Show every config key in `config`, not only those that differ between the runs. @default false */
  readonly allParams?: boolean;
}
