import { AsyncSeriesHook } from 'tapable';
import { createHooksRegistry, withNamedErrors } from '@poke/core/light';
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
  /** The manager, for plugins that prune (`manager.remove([{ id, reason }])`). */
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

const registry = createHooksRegistry<Trainer, CheckpointHooks>(() =>
  Object.freeze(
    withNamedErrors(
      {
        beforeSave: new AsyncSeriesHook<[BeforeSave]>(['save']),
        saved: new AsyncSeriesHook<[Saved]>(['saved']),
        loaded: new AsyncSeriesHook<[Loaded]>(['loaded']),
      },
      'checkpoint.',
    ),
  ),
);

/**
 * The checkpoint hooks of `trainer`, created on first use: other plugins tap
 * them from `@poke/plugin-checkpoint/hooks` without loading the rest of this
 * package, and whether or not the checkpoint plugin applies before them.
 */
export function getCheckpointHooks(trainer: Trainer): CheckpointHooks {
  return registry.get(trainer);
}
