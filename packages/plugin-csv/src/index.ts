import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { validatePluginOptions, writeJsonAtomic, UserError, describeDiskError } from '@poke/core';
import { configForDisk, plural } from '@poke/core/internal';
import type { PokePlugin, Trainer, MetricsRecord, RunContext } from '@poke/core';
import { csvOptionsSchema } from './schema.js';
import type { CsvOptions, ResolvedCsvOptions } from './schema.js';
import { CsvFile, FIXED_COLUMNS } from './csv-file.js';
import type { CsvFileStats } from './csv-file.js';
import { SPLITS, recordFor, splitOf, splitPath } from './split.js';
import type { Split } from './split.js';

export const PLUGIN_NAME = 'poke:csv';
export { csvOptionsSchema, csvOptionsSchema as schema, CsvFile, FIXED_COLUMNS, splitOf, splitPath };
export type { CsvOptions, ResolvedCsvOptions, CsvFileStats, Split };

/** Files the core keeps in the run folder; appending rows to them would corrupt them. */
const CORE_FILES = ['run.json', 'config.json'];

export interface CsvPlugin extends PokePlugin {
  /** The files of the current run, once `setup` opened them (one, or one per split). */
  readonly files: readonly CsvFile[];
}

/** A file and, with `splitFiles`, the split whose metrics it takes. */
interface Target {
  readonly file: CsvFile;
  readonly split?: Split;
}

function resolveOptions(options: CsvOptions | undefined): ResolvedCsvOptions {
  const resolved = validatePluginOptions(PLUGIN_NAME, csvOptionsSchema, options);
  if (CORE_FILES.includes(resolved.path)) {
    throw new UserError(`plugin ${PLUGIN_NAME}: options.path must not be ${resolved.path}, which the core writes`, 'use the default, metrics.csv');
  }
  return resolved;
}

function targetsIn(runDir: string, { path, flushEvery, splitFiles }: Required<CsvOptions>): Target[] {
  const base = join(runDir, path);
  if (!splitFiles) return [{ file: new CsvFile(base, flushEvery) }];
  return SPLITS.map((split) => ({ file: new CsvFile(splitPath(base, split), flushEvery), split }));
}

/** The core writes config.json when the run starts; a host that did not gets it here, secrets redacted. */
async function writeConfigIfMissing({ runDir, config }: RunContext): Promise<void> {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) await writeJsonAtomic(path, configForDisk(config));
}

function writeRecord({ file, split }: Target, record: MetricsRecord): void {
  const part = split ? recordFor(record, split) : record;
  if (!part) return;
  try {
    file.write(part);
  } catch (err) {
    throw diskError(err, file.path);
  }
}

/** Close every file even when one fails to, so no descriptor outlives the run. */
function closeAll(targets: readonly Target[]): void {
  const errors: unknown[] = [];
  for (const { file } of targets) {
    try {
      file.close();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}

/** A full or read-only disk is the environment, not a bug: one clear line. */
function diskError(err: unknown, path: string): unknown {
  const disk = describeDiskError(err);
  if (!disk) return err;
  return new UserError(`cannot write ${path}: ${disk}; the rows written before are intact`, 'free some space and continue with --resume');
}

/**
 * Writes every metrics record to runs/<run>/metrics.csv (step, epoch,
 * timestamp, then the metrics), and config.json when the run folder lacks it.
 */
export default function csv(options?: CsvOptions): CsvPlugin {
  const resolved = resolveOptions(options);
  let targets: Target[] = [];
  return {
    name: PLUGIN_NAME,
    get files() {
      return targets.map((t) => t.file);
    },
    apply(trainer: Trainer) {
      trainer.hooks.setup.tapPromise(PLUGIN_NAME, async (context) => {
        await writeConfigIfMissing(context);
        // Kept before opening, so that done closes what opened even if a later file fails to.
        targets = targetsIn(context.runDir, resolved);
        for (const { file } of targets) file.open();
      });
      // The resumed run emits every record after lastLoggedStep again.
      trainer.hooks.resumed.tap(PLUGIN_NAME, ({ state }) => {
        for (const { file } of targets) {
          const dropped = file.truncateAfter(state.lastLoggedStep);
          if (dropped > 0) trainer.logger.info(`csv: removed ${plural(dropped, 'row')} after step ${state.lastLoggedStep} from ${file.path}; the resumed run writes them again`);
        }
      });
      // Synchronous on purpose: the row is in the file before plugins act on the step.
      trainer.hooks.log.tap(PLUGIN_NAME, (record) => {
        for (const target of targets) writeRecord(target, record);
      });
      // done fires for completed, interrupted and failed runs alike.
      trainer.hooks.done.tap(PLUGIN_NAME, () => closeAll(targets));
    },
  };
}

export { csv };
