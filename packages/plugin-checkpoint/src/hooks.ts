import { AsyncSeriesHook } from 'tapable';
import { withNamedErrors } from '@poke/core';
import type { Trainer } from '@poke/core';
import type { ManifestEntry, LoadedCheckpoint, SaveReason, CheckpointMetadata } from './types.js';
import type { CheckpointManager } from './manager.js';

export interface BeforeSave {
  readonly reason: SaveReason;
  readonly epoch: number;
  readonly step: number;
}

export interface Saved {
  readonly entry: ManifestEntry;
  /** Absolute path of the checkpoint folder. */
  readonly dir: string;
  readonly isBest: boolean;
  /** The manager, for plugins that prune (`manager.remove(ids, reason)`). */
  readonly manager: CheckpointManager;
}

export interface Loaded {
  readonly checkpoint: LoadedCheckpoint;
  readonly metadata: CheckpointMetadata;
}

/** Hooks the checkpoint plugin offers other plugins (retention, trackers). */
export interface CheckpointHooks {
  /** Before the tensors are captured for a save. */
  readonly beforeSave: AsyncSeriesHook<[BeforeSave]>;
  /** After a checkpoint folder and the manifest are on disk. */
  readonly saved: AsyncSeriesHook<[Saved]>;
  /** After a resume loaded and verified a checkpoint, before training continues. */
  readonly loaded: AsyncSeriesHook<[Loaded]>;
}

const hooksByTrainer = new WeakMap<Trainer, CheckpointHooks>();

/**
 * The checkpoint hooks of `trainer`, created on first use (webpack's
 * getCompilationHooks pattern): other plugins tap them without importing
 * anything else from this package, and whether or not the checkpoint plugin
 * applies before them.
 */
export function getCheckpointHooks(trainer: Trainer): CheckpointHooks {
  let hooks = hooksByTrainer.get(trainer);
  if (!hooks) {
    hooks = Object.freeze(
      withNamedErrors(
        {
          beforeSave: new AsyncSeriesHook<[BeforeSave]>(['save']),
          saved: new AsyncSeriesHook<[Saved]>(['saved']),
          loaded: new AsyncSeriesHook<[Loaded]>(['loaded']),
        },
        'checkpoint.',
      ),
    );
    hooksByTrainer.set(trainer, hooks);
  }
  return hooks;
}
