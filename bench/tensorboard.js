// The TensorBoard plugin's cost with a record every step (logEvery 1): samples/s of the
// Trainer without it and with it, interleaved in rounds on the reference MLP; and the
// time spent inside its log and afterValidate taps, clocked by taps placed just before
// and just after it, as a share of the step time of the same runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Trainer, resolveConfig, silentLogger, selectBackend } from '@poke/core';
import tensorboard from '@poke/plugin-tensorboard';
import { REFERENCE, median, table } from './reference.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STEPS = Number(process.env.BENCH_STEPS ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BACKEND = process.env.BENCH_BACKEND ?? 'wasm';

/** Two taps around the plugin on `log` and `afterValidate`: what lies between them is the plugin's. */
function clock(spent, edge) {
  return {
    name: `bench:clock-${edge}`,
    apply(trainer) {
      const mark = () => {
        if (edge === 'before') spent.start = performance.now();
        else spent.ms += performance.now() - spent.start;
      };
      trainer.hooks.log.tap(`bench:clock-${edge}`, mark);
      trainer.hooks.afterValidate.tap(`bench:clock-${edge}`, mark);
    },
  };
}

async function samplesPerSecond(withPlugin, runsDir, spent) {
  const plugins = withPlugin ? [clock(spent, 'before'), tensorboard(), clock(spent, 'after')] : [];
  const user = {
    runsDir,
    seed: 1,
    data: { source: 'synthetic', valFraction: 0, samples: STEPS * REFERENCE.batchSize, features: REFERENCE.features, actions: REFERENCE.actions },
    model: { hiddenSizes: REFERENCE.hidden, dropout: 0 },
    train: { epochs: 2, batchSize: REFERENCE.batchSize, backend: BACKEND, logEvery: 1 },
    plugins,
  };
  const { config, plugins: instances } = await resolveConfig({ user, file: undefined, baseDir: ROOT });
  const trainer = new Trainer(config, { plugins: instances, baseDir: ROOT, logger: silentLogger });
  let start = 0;
  let seconds = 0;
  trainer.hooks.beforeEpoch.tap('bench', ({ epoch }) => {
    if (epoch === 1) {
      start = performance.now();
      spent.ms = 0;
    }
  });
  // afterValidate ends the epoch, after the plugin's flush in it.
  trainer.hooks.afterValidate.tap('bench:end', ({ epoch }) => {
    if (epoch === 1) seconds = (performance.now() - start) / 1000;
  });
  await trainer.run();
  trainer.dispose();
  return { samplesPerSecond: (STEPS * REFERENCE.batchSize) / seconds, pluginShare: spent.ms / (seconds * 1000) };
}

export async function run() {
  await selectBackend(BACKEND);
  const runsDir = mkdtempSync(join(tmpdir(), 'poke-bench-tb-'));
  const without = [];
  const withTb = [];
  const shares = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one.
      const order = round % 2 ? [true, false] : [false, true];
      for (const on of order) {
        const spent = { start: 0, ms: 0 };
        const result = await samplesPerSecond(on, runsDir, spent);
        (on ? withTb : without).push(result.samplesPerSecond);
        if (on) shares.push(result.pluginShare);
      }
    }
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  const base = median(without);
  const rows = [
    ['Trainer, no plugins, logEvery 1', without],
    ['Trainer + tensorboard, logEvery 1', withTb],
  ].map(([variant, values]) => ({
    variant,
    'samples/s (median)': Math.round(median(values)).toLocaleString('en-US'),
    'vs no plugins': (median(values) / base).toFixed(3),
    rounds: values.map((v) => Math.round(v)).join(' / '),
  }));
  console.log(`\nTensorBoard plugin — reference MLP ${REFERENCE.features}→${REFERENCE.hidden.join('→')}→${REFERENCE.actions}, batch ${REFERENCE.batchSize}, ${BACKEND} backend, a record every step, ${STEPS} timed steps × ${ROUNDS} interleaved rounds\n`);
  console.log(table(rows, ['variant', 'samples/s (median)', 'vs no plugins', 'rounds']));
  console.log(`\nEnd to end: ${((1 - median(withTb) / base) * 100).toFixed(2)}% slower (run-to-run noise on a loaded machine is larger than the plugin)`);
  console.log(`Inside the plugin's log and afterValidate taps: ${(median(shares) * 100).toFixed(3)}% of the epoch's time (median of ${shares.length}; goal: within 1%)`);
}
