/** Options of `csv()`; every key is optional. */
export interface CsvOptions {
  /** File inside the run folder. @default "metrics.csv" */
  path?: string;
  /** fsync after this many rows (and always when the run ends). @default 1 */
  flushEvery?: number;
  /** One file per split: `<name>.train.csv` and `<name>.val.csv`. @default false */
  splitFiles?: boolean;
}

export const csvOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      // Relative, inside the run folder: no leading slash, no `..` segment.
      pattern: '^(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_][A-Za-z0-9._/-]*$',
      default: 'metrics.csv',
      description: 'file inside the run folder',
    },
    flushEvery: { type: 'integer', minimum: 1, default: 1, description: 'fsync after this many rows' },
    splitFiles: { type: 'boolean', default: false, description: 'one file per split (train, val)' },
  },
} as const;
