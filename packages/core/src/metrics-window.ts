import type { TrainingState } from './state.js';

/**
 * Step metrics averaged over the steps since the last record. The sums live in
 * the training state (so they survive a resume); only the clock is local.
 */
export class MetricsWindow {
  private started = performance.now();

  constructor(private readonly state: TrainingState) {}

  add(loss: number, correct: number, samples: number): void {
    const w = this.state.windowSums;
    w.loss += loss * samples;
    w.correct += correct;
    w.samples += samples;
  }

  /** `loss`, `accuracy` and `samples_per_sec` over the window, then start a new one. */
  take(): Record<string, number> {
    const w = this.state.windowSums;
    const now = performance.now();
    const seconds = (now - this.started) / 1000;
    const out: Record<string, number> =
      w.samples > 0 ? { loss: w.loss / w.samples, accuracy: w.correct / w.samples, samples_per_sec: w.samples / Math.max(seconds, 1e-9) } : {};
    this.state.windowSums = { loss: 0, correct: 0, samples: 0 };
    this.started = now;
    return out;
  }
}
