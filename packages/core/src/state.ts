import { Rng, deriveSeed } from './util/rng.js';

/** Everything besides weights and optimizer slots that a run needs to continue exactly where it stopped. */
export interface TrainingStateSnapshot {
  readonly version: 1;
  /** Epoch in progress (0-based); equals the number of finished epochs when `batch` is 0. */
  readonly epoch: number;
  /** Next batch to train inside `epoch`: the data cursor. */
  readonly batch: number;
  readonly globalStep: number;
  /**
   * Step of the last metrics record emitted. On resume, records after it are
   * emitted again, so loggers drop what they hold beyond it.
   */
  readonly lastLoggedStep: number;
  readonly samplesSeen: number;
  /** State of the random stream that seeds dropout. */
  readonly rng: readonly number[];
  /** Sums over the epoch in progress, so its epoch mean is right after a mid-epoch resume. */
  readonly epochSums: Readonly<{ loss: number; correct: number; samples: number }>;
  /** Sums since the last metrics record, so windowed metrics after a resume match an uninterrupted run. */
  readonly windowSums: Readonly<{ loss: number; correct: number; samples: number }>;
  /** The `state()` of each plugin that has one, by its stateKey. */
  readonly plugins: Readonly<Record<string, unknown>>;
}

/** The trainer's mutable position in a run. One object, so a plugin can read it and restore it. */
export class TrainingState {
  epoch = 0;
  batch = 0;
  globalStep = 0;
  lastLoggedStep = 0;
  samplesSeen = 0;
  rng: Rng;
  epochSums = { loss: 0, correct: 0, samples: 0 };
  windowSums = { loss: 0, correct: 0, samples: 0 };
  plugins: Record<string, unknown> = {};

  constructor(seed: number) {
    this.rng = Rng.fromSeed(deriveSeed(seed, 'dropout'));
  }

  snapshot(): TrainingStateSnapshot {
    return {
      version: 1,
      epoch: this.epoch,
      batch: this.batch,
      globalStep: this.globalStep,
      lastLoggedStep: this.lastLoggedStep,
      samplesSeen: this.samplesSeen,
      rng: this.rng.state(),
      epochSums: { ...this.epochSums },
      windowSums: { ...this.windowSums },
      plugins: structuredClone(this.plugins),
    };
  }

  restore(snapshot: TrainingStateSnapshot): void {
    this.epoch = snapshot.epoch;
    this.batch = snapshot.batch;
    this.globalStep = snapshot.globalStep;
    this.lastLoggedStep = snapshot.lastLoggedStep ?? snapshot.globalStep;
    this.samplesSeen = snapshot.samplesSeen;
    this.rng = Rng.fromState(snapshot.rng);
    this.epochSums = { ...snapshot.epochSums };
    this.windowSums = { ...(snapshot.windowSums ?? { loss: 0, correct: 0, samples: 0 }) };
    this.plugins = structuredClone(snapshot.plugins ?? {});
  }
}
