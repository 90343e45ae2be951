export type RunState = 'completed' | 'interrupted' | 'failed' | 'running' | 'crashed' | 'unknown';

/** One run in a comparison. Missing values are null, never 0: 0.0 is a value. */
export interface CompareRow {
  readonly name: string;
  readonly path: string;
  readonly status: RunState;
  /** The ranking key and how it was obtained. */
  readonly metric: string;
  readonly mode: 'min' | 'max';
  readonly value: number | null;
  readonly valueSource: 'best-checkpoint' | 'metrics.csv' | null;
  /** 1 for the best; null for runs without the metric. */
  readonly rank: number | null;
  readonly bestCheckpoint: string | null;
  readonly epoch: number | null;
  readonly step: number | null;
  readonly trainLoss: number | null;
  readonly valLoss: number | null;
  readonly valAccuracy: number | null;
  readonly parameters: number | null;
  /** From run.json: created → last update. */
  readonly wallSeconds: number | null;
  /** Why the metric is missing (no checkpoints, unreadable manifest, still running, …). */
  readonly reason: string | null;
}

/** A metric over steps, from metrics.csv, for plots. */
export type Series = Record<string, Array<[step: number, value: number]>>;

export interface RunData {
  readonly row: CompareRow;
  readonly series: Series;
}

export interface CompareOptions {
  /** Any logged metric. @default "val_loss" */
  readonly metric?: string;
  /** Default: max for accuracy-like names, min otherwise. */
  readonly mode?: 'min' | 'max';
}
