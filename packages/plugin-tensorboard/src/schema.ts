import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/** Same rule as the CSV plugin's path: relative, "/"-separated, no "..", no hidden names. */
const RELATIVE_PATH = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';

/** The one definition of the options: schema, defaults, and (below) their types. */
export const tensorboardOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: {
      type: 'string',
      pattern: RELATIVE_PATH,
      default: 'tensorboard',
      description: 'folder inside the run folder for the event files',
    },
    scalarType: {
      type: 'string',
      enum: ['float', 'double'],
      default: 'float',
      description: 'float: simple_value, shown by every TensorBoard (its data server keeps float32); double: exact DT_DOUBLE tensors, shown only with --load_fast=false',
    },
    hparams: {
      type: 'boolean',
      default: true,
      description: 'write HParams session info: the config as hyperparameters, and the status at the end',
    },
    histogramsEvery: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'a histogram of every weight every N epochs (0: none)',
    },
  },
} as const;

export type TensorboardOptions = OptionsOf<typeof tensorboardOptionsSchema>;
export type ResolvedTensorboardOptions = ResolvedOptionsOf<typeof tensorboardOptionsSchema>;
