import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/**
 * Every segment starts with a letter, digit or underscore, so the schema alone
 * refuses absolute paths, `..` and `.` segments, empty segments and hidden files.
 */
const RELATIVE_PATH = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';

/** The one definition of `csv()`'s options: their types, JSON schema, defaults and descriptions. */
export const csvOptionsSchema = defineOptions({
  path: withDefault(
    Type.String({
      pattern: RELATIVE_PATH,
      description: 'file inside the run folder, e.g. metrics.csv or logs/metrics.csv; relative, "/"-separated, no ".." and no hidden names',
    }),
    'metrics.csv',
  ),
  flushEvery: withDefault(Type.Integer({ minimum: 1, description: 'fsync after this many rows (1: every row); always fsynced at close' }), 1),
  splitFiles: withDefault(
    Type.Boolean({ description: 'one file per split: <name>.train.csv (every metric but val_*) and <name>.val.csv (val_*)' }),
    false,
  ),
});

export type CsvOptions = OptionsOf<typeof csvOptionsSchema>;
export type ResolvedCsvOptions = ResolvedOptionsOf<typeof csvOptionsSchema>;
