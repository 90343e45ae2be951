import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/** The one definition of `retention()`'s options: their types, JSON schema, defaults and descriptions. */
export const retentionOptionsSchema = defineOptions({
  maxToKeep: withDefault(Type.Integer({ minimum: 1, description: 'keep the most recent N checkpoints' }), 5),
  keepBest: withDefault(
    Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 })], {
      description: "keep the best (true), the top k by the checkpoint plugin's monitor (a number), or not (false)",
    }),
    true,
  ),
  keepEvery: Type.Optional(
    Type.Union(
      [defineOptions({ epochs: Type.Integer({ minimum: 1 }) }), defineOptions({ steps: Type.Integer({ minimum: 1 }) })],
      { description: 'keep checkpoints every N epochs (end of epoch) or every N steps, forever' },
    ),
  ),
  maxTotalBytes: Type.Optional(
    Type.Integer({ minimum: 1, description: 'delete more (oldest unprotected first) while the checkpoints together are larger than this' }),
  ),
  keep: withDefault(Type.Array(Type.String(), { description: 'checkpoint ids never to delete' }), []),
});

export type RetentionOptions = OptionsOf<typeof retentionOptionsSchema>;
export type ResolvedRetention = ResolvedOptionsOf<typeof retentionOptionsSchema>;
