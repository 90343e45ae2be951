import { join } from 'node:path';
import { validatePluginOptions, Stage } from '@poke/core';
import { configForDisk } from '@poke/core/internal';
import type { PokePlugin, Trainer, RunContext, RunStatus } from '@poke/core';
import { getCheckpointHooks } from '@poke/plugin-checkpoint/hooks';
import { tensorboardOptionsSchema } from './schema.js';
import type { TensorboardOptions, ResolvedTensorboardOptions } from './schema.js';
import { EventFile, eventFiles, trimEventFiles } from './event-file.js';
import { scalarsEvent, textEvent, sessionStartInfoEvent, sessionEndInfoEvent, sessionStartEvent, histogramEvent } from './summaries.js';
import { flattenHParams } from './hparams.js';
import { HParamsStatus } from './proto.js';

export const PLUGIN_NAME = 'poke:tensorboard';
export { tensorboardOptionsSchema, tensorboardOptionsSchema as schema, EventFile, eventFiles, trimEventFiles, flattenHParams };
export { frameRecord, scanRecords } from './tfrecord.js';
export { maskedCrc32c } from './crc32c.js';
export { encodeEvent, scalarsEvent, fileVersionEvent, sessionStartEvent } from './summaries.js';
export type { TensorboardOptions, ResolvedTensorboardOptions };

export interface TensorboardPlugin extends PokePlugin {
  /** The event file of this attempt, once `setup` opened it. */
  readonly file: EventFile | undefined;
}

const STATUS: Record<RunStatus, number> = {
  completed: HParamsStatus.STATUS_SUCCESS,
  failed: HParamsStatus.STATUS_FAILURE,
  // The dashboard has no "stopped"; an interrupted run may still be resumed.
  interrupted: HParamsStatus.STATUS_UNKNOWN,
};

const now = () => Date.now() / 1000;

/** The config as the run folder's config.json holds it (secrets redacted), as markdown. */
function configText(context: RunContext): string {
  const json = JSON.stringify(configForDisk(context.config), null, 2);
  return `Resolved config of run \`${context.runName}\` (${context.runId}), backend ${context.backend}:\n\n` + json.replace(/^/gm, '    ');
}

/**
 * Writes runs/<run>/tensorboard/events.out.tfevents.*: a scalar for every metric of
 * every record at its global step, the resolved config as text, HParams session info,
 * and optionally weight histograms. Records are kept in memory and written at epoch
 * ends, before every checkpoint and at `done`; nothing is fsynced until the file closes.
 */
export default function tensorboard(options?: TensorboardOptions): TensorboardPlugin {
  const resolved = validatePluginOptions<ResolvedTensorboardOptions>(PLUGIN_NAME, tensorboardOptionsSchema, options);
  let file: EventFile | undefined;
  let context: RunContext | undefined;

  /** Config text and HParams start for the attempt that starts at `step`. */
  function writeStart(ctx: RunContext, step: number): void {
    const wallTime = now();
    file!.append(textEvent('config', configText(ctx), step, wallTime));
    if (!resolved.hparams) return;
    // The run's name, its folder and the config file's path differ by design: not hyperparameters.
    const { runName: _name, runsDir: _dir, configFile: _file, ...config } = configForDisk(ctx.config) as Record<string, unknown>;
    file!.append(sessionStartInfoEvent(flattenHParams(config), wallTime, step, wallTime));
  }

  return {
    name: PLUGIN_NAME,
    get file() {
      return file;
    },
    apply(trainer: Trainer) {
      trainer.hooks.setup.tap(PLUGIN_NAME, (ctx) => {
        context = ctx;
        file = new EventFile(join(ctx.runDir, resolved.dir));
        // A resumed run writes its start in `resumed`, once it knows the step.
        if (!ctx.resume) writeStart(ctx, 0);
      });
      // The resumed run emits every record after lastLoggedStep again.
      trainer.hooks.resumed.tap(PLUGIN_NAME, ({ state }) => {
        const start = state.lastLoggedStep + 1;
        for (const { file: path, dropped, cutBytes } of trimEventFiles(file!.dir, state.lastLoggedStep, file!.path)) {
          const cut = cutBytes > 0 ? ` and ${cutBytes} bytes of a record cut short` : '';
          trainer.logger.info(`tensorboard: removed ${dropped} events after step ${state.lastLoggedStep}${cut} from ${path}; the resumed run writes them again`);
        }
        file!.append(sessionStartEvent(start, now()));
        writeStart(context!, start);
      });
      trainer.hooks.log.tap(PLUGIN_NAME, (record) => {
        file?.append(scalarsEvent(record.step, Date.parse(record.timestamp) / 1000, record.metrics, resolved.scalarType, file.described));
      });
      trainer.hooks.afterValidate.tap(PLUGIN_NAME, ({ epoch, globalStep }) => {
        const every = resolved.histogramsEvery;
        if (every > 0 && (epoch + 1) % every === 0) {
          const wallTime = now();
          for (const weight of trainer.model.weights) {
            file!.append(histogramEvent(`weights/${weight.name}`, weight.read().dataSync() as Float32Array, globalStep, wallTime));
          }
        }
        file!.flush();
      });
      // A checkpoint covers the records logged so far: they are in the file (the kernel's) before it is taken.
      getCheckpointHooks(trainer).beforeSave.tap({ name: PLUGIN_NAME, stage: Stage.DEFAULT }, () => file?.flush());
      // done fires for completed, interrupted and failed runs alike.
      trainer.hooks.done.tap(PLUGIN_NAME, (summary) => {
        if (!file) return;
        if (resolved.hparams) file.append(sessionEndInfoEvent(STATUS[summary.status], summary.globalStep, now()));
        file.close();
      });
    },
  };
}

export { tensorboard };
