/** Options of `csv()`; every key is optional. */
export interface CsvOptions {
  /** File inside the run folder, e.g. `metrics.csv` or `logs/metrics.csv`. @default "metrics.csv" */
  path?: string;
  /** fsync after this many rows; the file is always fsynced when it closes. @default 1 */
  flushEvery?: number;
  /** One file per split: `<name>.train.csv` and `<name>.val.csv`. @default false */
  splitFiles?: boolean;
}

/**
 * Every segment starts with a letter, digit or underscore, so the schema alone
 * refuses absolute paths, `..` and `.` segments, empty segments and hidden files.
 */
const RELATIVE_PATH = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';

export const csvOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      pattern: RELATIVE_PATH,
      default: 'metrics.csv',
      description: 'file inside the run folder; relative, "/"-separated, no ".." and no hidden names',
    },
    flushEvery: {
      type: 'integer',
      minimum: 1,
      default: 1,
      description: 'fsync after this many rows (1: every row); always fsynced at close',
    },
    splitFiles: {
      type: 'boolean',
      default: false,
      description: 'one file per split: <name>.train.csv (every metric but val_*) and <name>.val.csv (val_*)',
    },
  },
} as const;
