/**
 * The run the trackers' live-delivery tests train: one long epoch of small steps, so a
 * sender that delivers only at the end is told apart from one that delivers while
 * training, however fast the machine is.
 */
export const TRAIN_SAMPLES = 135_000; // 150,000 samples, 10% held out
export const BATCH = 8;
export const PLANNED_STEPS = TRAIN_SAMPLES / BATCH; // 16,875 steps, one epoch
export const CONFIG = {
  seed: 7,
  data: { source: 'synthetic', samples: 150_000 },
  model: { hiddenSizes: [16] },
  train: { epochs: 1, batchSize: BATCH, logEvery: 10, backend: 'cpu' },
};
