import type { RunParent, TrainingStateSnapshot, MonitorMode } from '@poke/core';
import type { OptimizerState, TensorSnapshot, OptimizerSnapshot } from '@poke/core/internal';
import type { FileRecord } from './checksum.js';

/** The source's CheckpointMetadata, and what poke adds to it. Stored as metadata.json. */
export interface CheckpointMetadata {
  readonly format: 'poke-checkpoint';
  /** 2 since files carry a CRC-32C; 1 when they carried sha256. */
  readonly version: 1 | 2;
  /** `epochEEEE-stepSSSSSSSS`: epochs finished and global step at the time of the save. */
  readonly id: string;
  /** Unique across runs and machines. */
  readonly uid: string;
  readonly epoch: number;
  readonly step: number;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly train_loss: number | null;
  readonly train_accuracy: number | null;
  readonly val_loss: number | null;
  readonly val_accuracy: number | null;
  /** The latest value of every metric at the time of the save. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Why it was saved: validation, epoch, steps, minutes, last. */
  readonly reason: SaveReason;
  readonly monitor: { readonly name: string; readonly mode: MonitorMode; readonly value: number | null };
  /** Resolved config, secrets redacted. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly files: Readonly<Record<string, FileRecord>>;
  readonly versions: { readonly poke: string; readonly tfjs: string };
  readonly backend: string;
  readonly runId: string;
  /** The run and checkpoint the run's weights started from (`--init-from`). */
  readonly parent?: RunParent;
  readonly gitCommit?: string;
}

export type SaveReason = 'validation' | 'epoch' | 'steps' | 'minutes' | 'last' | 'manual';

/** One line of checkpoints.json. */
export interface ManifestEntry {
  readonly id: string;
  readonly epoch: number;
  readonly step: number;
  readonly timestamp: string;
  /** The monitored value, or null when the save came between validations. */
  readonly value: number | null;
  readonly bytes: number;
  readonly reason: SaveReason;
}

export interface Manifest {
  readonly format: 'poke-checkpoints';
  readonly version: 1;
  readonly monitor: { readonly name: string; readonly mode: MonitorMode };
  readonly entries: readonly ManifestEntry[];
  readonly best: string | null;
  readonly latest: string | null;
  /**
   * Folders being deleted: dropped from `entries` in the same write. A folder
   * still on disk under one of these ids after a crash is removed at the next
   * start instead of being re-indexed.
   */
  readonly deleting?: readonly string[];
}

/** What is saved, taken on the training thread so that no later step can leak in. */
export interface CheckpointContent {
  readonly epoch: number;
  readonly step: number;
  readonly reason: SaveReason;
  readonly state: TrainingStateSnapshot;
  /** Model topology (tfjs layers JSON). */
  readonly topology: object;
  /** Tensors by reference (clones): their data is read when the files are written, possibly in the background. */
  readonly weights: readonly TensorSnapshot[];
  readonly optimizer: OptimizerSnapshot;
  readonly metrics: Readonly<Record<string, number>>;
  /** The monitored metric and its value at this save (null between validations). */
  readonly monitor: { readonly name: string; readonly mode: MonitorMode; readonly value: number | null };
  readonly config: Readonly<Record<string, unknown>>;
  readonly backend: string;
  readonly runId: string;
  /** The run and checkpoint the run's weights started from (`--init-from`). */
  readonly parent?: RunParent;
  readonly gitCommit?: string;
}

/** A checkpoint read back and verified. */
export interface LoadedCheckpoint {
  readonly dir: string;
  readonly metadata: CheckpointMetadata;
  readonly state: TrainingStateSnapshot;
  readonly topology: object;
  readonly weights: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[]; readonly values: Float32Array }>;
  readonly optimizer: OptimizerState;
}
