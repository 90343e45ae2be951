import cliProgress from 'cli-progress';
import { countedProgress } from './counted-progress.js';
import { plural } from '@poke/core/internal';
import type { DataProgress, PokePlugin, Trainer, RunSummary } from '@poke/core';

const PLUGIN_NAME = 'poke:progress';

function fmt(value: number | undefined, digits = 4): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function epochLine(epoch: number, epochs: number, step: number, m: Readonly<Record<string, number>>, seconds: number): string {
  const parts = [
    `epoch ${epoch + 1}/${epochs}`,
    `step ${step}`,
    `train_loss ${fmt(m.train_loss)}`,
    `train_acc ${fmt(m.train_accuracy)}`,
  ];
  if (m.val_loss !== undefined) parts.push(`val_loss ${fmt(m.val_loss)}`, `val_acc ${fmt(m.val_accuracy)}`);
  parts.push(`${Math.round(m.samples_per_sec ?? 0)} samples/s`, `${seconds.toFixed(1)}s`);
  return parts.join('  ');
}

export function summaryLine(summary: RunSummary): string {
  const m = summary.finalMetrics;
  const metrics = m.val_accuracy !== undefined ? `, val_loss ${fmt(m.val_loss)}, val_accuracy ${fmt(m.val_accuracy)}` : '';
  return `run ${summary.status}: ${summary.runDir} (${plural(summary.epochs, 'epoch')}, ${plural(summary.globalStep, 'step')}, ${summary.seconds.toFixed(1)} s${metrics})`;
}

/** A data source's counted progress as a bar or log lines (none when not `live`); other messages as lines. */
function showDataProgress(trainer: Trainer, stream: NodeJS.WriteStream, tty: boolean, live: boolean): void {
  const counted = countedProgress(stream, tty);
  trainer.hooks.dataProgress.tap(PLUGIN_NAME, ({ message, done, total }: DataProgress) => {
    if (done === undefined || total === undefined) {
      counted.stop();
      stream.write(message + '\n');
    } else if (live) {
      // The message usually ends with the count ("… 3/300"), which the bar shows itself.
      counted.update(message.replace(/\s*\d+\s*\/\s*\d+\s*$/, '') || message, done, total, message);
    }
  });
  trainer.hooks.setup.tap(PLUGIN_NAME, () => counted.stop());
}

/**
 * Shows training progress: a bar with step, loss, accuracy, samples/s and ETA on
 * a terminal; one plain line per epoch otherwise (logs, CI). With `live: false`
 * (`--no-progress`) there is no bar and no counted data progress, but the epoch
 * lines and the summary stay, as Keras' `verbose=2` keeps them for log files.
 */
export function progressPlugin(options: { stream?: NodeJS.WriteStream; tty?: boolean; live?: boolean } = {}): PokePlugin {
  const stream = options.stream ?? process.stderr;
  const live = options.live ?? true;
  const tty = live && (options.tty ?? Boolean(stream.isTTY));
  return {
    name: PLUGIN_NAME,
    apply(trainer: Trainer) {
      showDataProgress(trainer, stream, tty, live);
      const epochs = trainer.config.train.epochs;
      let bar: cliProgress.SingleBar | undefined;
      let epochStarted = 0;
      let epochSamples = 0;
      let lastRate = 0;
      trainer.hooks.beforeEpoch.tap(PLUGIN_NAME, ({ epoch, stepsPerEpoch, globalStep }) => {
        epochStarted = performance.now();
        epochSamples = 0;
        if (!tty) return;
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `epoch ${epoch + 1}/${epochs} {bar} {value}/{total} | loss {loss} | acc {acc} | {rate} samples/s | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(stepsPerEpoch, globalStep % stepsPerEpoch || 0, { loss: '-', acc: '-', rate: '-' });
      });
      trainer.hooks.log.tap(PLUGIN_NAME, (record) => {
        if (record.metrics.samples_per_sec !== undefined) lastRate = record.metrics.samples_per_sec;
      });
      if (tty) {
        trainer.hooks.afterStep.tap(PLUGIN_NAME, (step) => {
          epochSamples += step.batchSize;
          const rate = epochSamples / Math.max((performance.now() - epochStarted) / 1000, 1e-9);
          bar?.update(step.batch + 1, { loss: fmt(step.loss), acc: fmt(step.accuracy, 3), rate: Math.round(rate) });
        });
      }
      trainer.hooks.afterValidate.tap(PLUGIN_NAME, ({ epoch, globalStep, metrics }) => {
        bar?.stop();
        bar = undefined;
        const line = epochLine(epoch, epochs, globalStep, { ...metrics, samples_per_sec: lastRate }, (performance.now() - epochStarted) / 1000);
        stream.write(line + '\n');
      });
      trainer.hooks.done.tap(PLUGIN_NAME, (summary) => {
        bar?.stop();
        stream.write(summaryLine(summary) + '\n');
      });
    },
  };
}
