import type { ResolvedConfig } from './config/schema.js';
import type { TrainingStateSnapshot } from './state.js';

/**
 * Progress of a data source while it loads (generation, import, download).
 * `done` and `total` are given when the work is countable; a final event has done === total.
 */
export interface DataProgress {
  readonly source: string;
  readonly message: string;
  readonly done?: number;
  readonly total?: number;
}

/** What the `fetchRun` hook is asked for: the run a `--resume` continues. */
export interface RunFetch {
  /** Absolute path of runsDir. */
  readonly runsDir: string;
  /** The run's name; undefined when `--resume` was given without one (the newest local run is meant). */
  readonly runName: string | undefined;
  /** What `--resume` asked for: `auto`, `latest`, `best`, an id or a path. */
  readonly resume: string;
}

/** What every hook that runs once per run receives. */
export interface RunContext {
  readonly config: ResolvedConfig;
  /** Absolute path of runs/<name>/. */
  readonly runDir: string;
  readonly runName: string;
  readonly runId: string;
  /** The backend actually in use: tensorflow, wasm or cpu. */
  readonly backend: string;
  /** What `--resume` asked for (`latest`, `best` or a path), or undefined when not resuming. */
  readonly resume: string | undefined;
  /** Number of trainable parameters of the policy model. */
  readonly parameterCount: number;
  readonly trainSamples: number;
  readonly valSamples: number;
  readonly stepsPerEpoch: number;
  /** The run and checkpoint this run's weights started from (`--init-from`); kept across resumes. */
  readonly parent?: RunParent;
}

/** What `--init-from` asks the `init` hook for: a run folder or a checkpoint folder, before anything is written. */
export interface InitRequest {
  /** As given: a run folder, a run name under runsDir, or a checkpoint folder. */
  readonly from: string;
  /** Also take the optimizer's state (Adam's moments and step count). */
  readonly optimizer: boolean;
  /** Absolute runs folder, for a bare run name. */
  readonly runsDir: string;
  /** Folder a relative `from` is resolved against. */
  readonly baseDir: string;
}

/** Where a fine-tuned run's weights came from; recorded in run.json and every checkpoint's metadata. */
export interface RunParent {
  /** The parent run's id (run.json `id`), when its checkpoint names one. */
  readonly runId?: string;
  /** The parent run's folder name. */
  readonly runName?: string;
  /** The checkpoint's id. */
  readonly checkpoint: string;
  /** Absolute path of the checkpoint folder read. */
  readonly path: string;
  /** Whether the optimizer's state was taken too. */
  readonly optimizer: boolean;
}

export interface EpochStart {
  /** 0-based epoch index. */
  readonly epoch: number;
  readonly globalStep: number;
  readonly stepsPerEpoch: number;
}

export interface StepEnd {
  readonly epoch: number;
  /** Batch index inside the epoch, 0-based. */
  readonly batch: number;
  /** Optimizer steps taken so far in the whole run, this one included. */
  readonly globalStep: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly batchSize: number;
}

export interface EpochEnd {
  readonly epoch: number;
  readonly globalStep: number;
  readonly metrics: Readonly<{ train_loss: number; train_accuracy: number }>;
  readonly seconds: number;
}

export interface ValidationEnd {
  readonly epoch: number;
  readonly globalStep: number;
  /** `val_loss` and `val_accuracy`, plus the epoch's `train_loss` and `train_accuracy`. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** Fired once after a successful resume, before training continues. */
export interface ResumedInfo {
  /** What `--resume` asked for. */
  readonly from: string;
  readonly state: TrainingStateSnapshot;
}

/** One row of metrics. The trainer emits at most one record per global step. */
export interface MetricsRecord {
  readonly step: number;
  readonly epoch: number;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export type RunStatus = 'completed' | 'interrupted' | 'failed';

export interface RunSummary {
  readonly status: RunStatus;
  readonly runDir: string;
  readonly runName: string;
  readonly epochs: number;
  readonly globalStep: number;
  readonly samplesSeen: number;
  readonly seconds: number;
  /** The last value of every metric emitted through `log`. */
  readonly finalMetrics: Readonly<Record<string, number>>;
  /** Set when status is `failed`. */
  readonly error?: unknown;
}

/** What a `resume` tap returns: the trainer's state to continue from. Weights are restored by the plugin itself. */
export type ResumeState = TrainingStateSnapshot;
