import { Type } from '@sinclair/typebox';
import { choice, defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/** The one definition of `checkpoint()`'s options: their types, JSON schema, defaults and descriptions. */
export const checkpointOptionsSchema = defineOptions({
  every: withDefault(
    Type.Union(
      [
        Type.Literal('epoch'),
        defineOptions({ steps: Type.Integer({ minimum: 1 }) }),
        defineOptions({ minutes: Type.Number({ exclusiveMinimum: 0 }) }),
      ],
      { description: 'when to save besides validation: every epoch, every N steps, or every M minutes' },
    ),
    'epoch',
  ),
  onValidate: withDefault(Type.Boolean({ description: 'save after each validation pass, where the best checkpoint is decided' }), true),
  saveLast: withDefault(Type.Boolean({ description: 'save a last checkpoint when the run ends, is interrupted or fails' }), true),
  monitor: Type.Optional(
    Type.String({ minLength: 1, description: 'metric that decides the best checkpoint (default: val_loss, or train_loss without validation)' }),
  ),
  mode: Type.Optional(choice(['min', 'max'], { description: 'min: lower is better; max: higher is better (default: min for losses, max otherwise)' })),
  async: withDefault(
    Type.Boolean({ description: 'write in the background: tensors are snapshotted on the training thread, at most one save in flight' }),
    false,
  ),
  maxBytes: withDefault(Type.Integer({ minimum: 1, description: 'warn when one checkpoint is larger than this (1 GiB)' }), 1073741824),
  onSaveError: withDefault(
    choice(['stop', 'continue'], {
      description: 'when a save hits a full or read-only disk: stop ends the run (status failed, one clear line), continue warns and keeps training',
    }),
    'stop',
  ),
});

export type CheckpointOptions = OptionsOf<typeof checkpointOptionsSchema>;
export type ResolvedCheckpointOptions = ResolvedOptionsOf<typeof checkpointOptionsSchema>;
