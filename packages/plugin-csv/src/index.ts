import { join, dirname, basename, extname } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { validatePluginOptions, configForDisk, writeJsonAtomic, UserError } from '@poke/core';
import type { PokePlugin, Trainer, MetricsRecord } from '@poke/core';
import { csvOptionsSchema } from './schema.js';
import type { CsvOptions } from './schema.js';
import { CsvFile } from './csv-file.js';

export const PLUGIN_NAME = 'poke:csv';
export { csvOptionsSchema, CsvFile };
export type { CsvOptions };

type Resolved = Required<CsvOptions>;

/** `metrics.csv` → `metrics.train.csv`. */
function splitPath(path: string, split: string): string {
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${split}${ext || '.csv'}`);
}

/** With splitFiles: validation metrics go to the val file, everything else to the train file. */
function splitOf(metric: string): 'train' | 'val' {
  return metric.startsWith('val_') ? 'val' : 'train';
}

function only(record: MetricsRecord, split: 'train' | 'val'): MetricsRecord | undefined {
  const metrics = Object.fromEntries(Object.entries(record.metrics).filter(([k]) => splitOf(k) === split));
  return Object.keys(metrics).length ? { ...record, metrics } : undefined;
}

/**
 * Writes every metrics record to runs/<run>/metrics.csv (step, epoch,
 * timestamp, then metrics), and config.json when the run folder lacks it.
 */
export default function csv(options?: CsvOptions): PokePlugin & { readonly options: Resolved; readonly files: CsvFile[] } {
  const resolved = validatePluginOptions<Resolved>(PLUGIN_NAME, csvOptionsSchema, options);
  const files: CsvFile[] = [];
  return {
    name: PLUGIN_NAME,
    options: resolved,
    files,
    apply(trainer: Trainer) {
      trainer.hooks.setup.tapPromise(PLUGIN_NAME, async ({ runDir, config }) => {
        const configPath = join(runDir, 'config.json');
        if (!existsSync(configPath)) await writeJsonAtomic(configPath, configForDisk(config));
        const base = join(runDir, resolved.path);
        mkdirSync(dirname(base), { recursive: true });
        const paths = resolved.splitFiles ? [splitPath(base, 'train'), splitPath(base, 'val')] : [base];
        for (const path of paths) {
          const file = new CsvFile(path, resolved.flushEvery);
          file.open();
          files.push(file);
        }
      });
      trainer.hooks.resumed.tap(PLUGIN_NAME, ({ state }) => {
        for (const file of files) {
          const dropped = file.truncateAfter(state.lastLoggedStep);
          if (dropped) trainer.logger.info(`csv: dropped ${dropped} rows after step ${state.lastLoggedStep} from ${file.path}; the resumed run writes them again`);
        }
      });
      trainer.hooks.log.tap(PLUGIN_NAME, (record) => {
        try {
          if (!resolved.splitFiles) files[0]?.write(record);
          else {
            const train = only(record, 'train');
            const val = only(record, 'val');
            if (train) files[0]?.write(train);
            if (val) files[1]?.write(val);
          }
        } catch (err) {
          throw diskError(err, files[0]?.path ?? resolved.path);
        }
      });
      trainer.hooks.done.tap(PLUGIN_NAME, () => {
        for (const file of files) file.close();
      });
    },
  };
}

export { csv };

/** A full or read-only disk is the environment, not a bug: one clear line. */
function diskError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const what: Record<string, string> = { ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system' };
  if (!code || !what[code]) return err;
  return new UserError(`csv: cannot write ${path}: ${what[code]} (${code}); rows up to the last one written are intact`, 'free some space and resume with --resume');
}
