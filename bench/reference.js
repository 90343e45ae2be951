import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Trainer, resolveConfig, silentLogger } from '@poke/core';

// The reference workload every benchmark uses: an MLP 1024 → 512 → 512 → 10, batch 512, Adam.
export const REFERENCE = { features: 1024, hidden: [512, 512], actions: 10, batchSize: 512 };

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n');
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Samples/s of the Trainer on the reference MLP over its second epoch (the first
 * warms up kernels): `steps` batches of synthetic data, no validation.
 */
export async function trainerSamplesPerSecond({ backend, steps, plugins = [], runsDir }) {
  const user = {
    runsDir,
    seed: 1,
    data: { source: 'synthetic', valFraction: 0, samples: steps * REFERENCE.batchSize, features: REFERENCE.features, actions: REFERENCE.actions },
    model: { hiddenSizes: REFERENCE.hidden, dropout: 0 },
    train: { epochs: 2, batchSize: REFERENCE.batchSize, backend, logEvery: 50 },
    plugins,
  };
  const { config, plugins: instances } = await resolveConfig({ user, file: undefined, baseDir: ROOT });
  const trainer = new Trainer(config, { plugins: instances, baseDir: ROOT, logger: silentLogger });
  let start = 0;
  let seconds = 0;
  trainer.hooks.beforeEpoch.tap('bench', ({ epoch }) => {
    if (epoch === 1) start = performance.now();
  });
  trainer.hooks.afterEpoch.tap('bench', ({ epoch }) => {
    if (epoch === 1) seconds = (performance.now() - start) / 1000;
  });
  await trainer.run();
  trainer.dispose();
  return (steps * REFERENCE.batchSize) / seconds;
}
