import cliProgress from 'cli-progress';
import { throttle } from '@poke/core/internal';

/** Shows counted work (battles generated, files imported). */
export interface CountedProgress {
  /** `line` is what a log gets; it defaults to "label done/total". */
  update(label: string, done: number, total: number, line?: string): void;
  /** Ends a bar that is still drawn (work that failed or stopped early). */
  stop(): void;
}

const LOG_INTERVAL_MS = 5000;

/**
 * A bar with an ETA on a terminal; in a log (CI, a file), a line every few
 * seconds and always the last, so long work shows it is alive without flooding.
 */
export function countedProgress(stream: NodeJS.WriteStream = process.stderr, tty = Boolean(stream.isTTY)): CountedProgress {
  let bar: cliProgress.SingleBar | undefined;
  let barLabel = '';
  const gate = throttle(LOG_INTERVAL_MS);
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    stop,
    update(label, done, total, line = `${label} ${done}/${total}`) {
      const final = done >= total;
      if (!tty) {
        if (gate(final)) stream.write(line + '\n');
        return;
      }
      if (bar && barLabel !== label) stop();
      if (!bar) {
        barLabel = label;
        bar = new cliProgress.SingleBar(
          { stream, format: `${label} {bar} {value}/{total} | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar.update(done);
      if (final) {
        stop();
        stream.write(line + '\n');
      }
    },
  };
}
