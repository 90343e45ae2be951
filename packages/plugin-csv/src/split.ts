import { basename, dirname, extname, join } from 'node:path';
import type { MetricsRecord } from '@poke/core';

/** With `splitFiles`, the file each metric goes to. */
export type Split = 'train' | 'val';

export const SPLITS: readonly Split[] = ['train', 'val'];

/**
 * `val_*` metrics go to the val file; everything else (the step metrics `loss`,
 * `accuracy`, `samples_per_sec`, `lr`, and `train_*`) to the train file, so no
 * metric is ever dropped.
 */
export function splitOf(metric: string): Split {
  return metric.startsWith('val_') ? 'val' : 'train';
}

/** `metrics.csv` → `metrics.train.csv`; a name without an extension gets `.csv`. */
export function splitPath(path: string, split: Split): string {
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${split}${ext || '.csv'}`);
}

/** The part of `record` that belongs to `split`, or undefined when it has none of its metrics. */
export function recordFor(record: MetricsRecord, split: Split): MetricsRecord | undefined {
  const metrics = Object.fromEntries(Object.entries(record.metrics).filter(([key]) => splitOf(key) === split));
  return Object.keys(metrics).length > 0 ? { ...record, metrics } : undefined;
}
