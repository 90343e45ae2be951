import { Type } from '@sinclair/typebox';
import { choice, defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/** Same rule as the CSV plugin's path: relative, "/"-separated, no "..", no hidden names. */
const RELATIVE_PATH = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';

/** The one definition of `tensorboard()`'s options: their types, JSON schema, defaults and descriptions. */
export const tensorboardOptionsSchema = defineOptions({
  dir: withDefault(Type.String({ pattern: RELATIVE_PATH, description: 'folder inside the run folder for the event files' }), 'tensorboard'),
  scalarType: withDefault(
    choice(['float', 'double'], {
      type: 'string',
      description:
        'float: simple_value, shown by every TensorBoard (its data server keeps float32); double: exact DT_DOUBLE tensors, shown only with --load_fast=false',
    }),
    'float',
  ),
  hparams: withDefault(
    Type.Boolean({ description: 'write HParams session info: the config as hyperparameters, and the status at the end' }),
    true,
  ),
  histogramsEvery: withDefault(Type.Integer({ minimum: 0, description: 'a histogram of every weight every N epochs (0: none)' }), 0),
});

export type TensorboardOptions = OptionsOf<typeof tensorboardOptionsSchema>;
export type ResolvedTensorboardOptions = ResolvedOptionsOf<typeof tensorboardOptionsSchema>;
