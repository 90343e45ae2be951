// Samples/s of a bare tfjs training loop vs the Trainer with no plugins vs the Trainer
// with every built-in plugin installed, on the reference MLP, interleaved in rounds;
// and the cost of the event-loop turn the Trainer takes after every step, measured on
// adjacent steps of the same runs, with and without one more such turn.
import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend, generateSynthetic, buildPolicy } from '@poke/core';
import { FlatAdam, forward, maskLogits, lossAndCorrect } from '@poke/core/internal';
import { REFERENCE, median, table, trainerSamplesPerSecond } from './reference.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STEPS = Number(process.env.BENCH_STEPS ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BACKEND = process.env.BENCH_BACKEND ?? 'wasm';

const dataOptions = { samples: STEPS * REFERENCE.batchSize, features: REFERENCE.features, actions: REFERENCE.actions, legalProbability: 0.7, noise: 0.1 };

/**
 * The same math as the Trainer's step, written as the shortest loop tfjs allows, through its
 * gradient tape. On tensorflow the Trainer's step skips the tape, so there it can beat this.
 */
async function bareLoop(data) {
  const model = buildPolicy({ featureSize: REFERENCE.features, actionCount: REFERENCE.actions, hiddenSizes: REFERENCE.hidden, activation: 'relu', dropout: 0, seed: 1 });
  const optimizer = new FlatAdam(1e-3);
  const B = REFERENCE.batchSize;
  const F = REFERENCE.features;
  const A = REFERENCE.actions;
  const order = Int32Array.from({ length: data.size }, (_, i) => i);
  const step = (s) => {
    const batch = data.gather(order.subarray(s * B, (s + 1) * B));
    tf.tidy(() => {
      const x = tf.tensor2d(batch.features, [B, F]);
      const y = tf.tensor1d(batch.labels, 'int32');
      const m = tf.tensor2d(Float32Array.from(batch.masks), [B, A]);
      const loss = optimizer.minimize(() => lossAndCorrect(maskLogits(forward(model, x), m), y, A).loss, true);
      loss.dataSync();
    });
  };
  step(0);
  const start = performance.now();
  for (let s = 0; s < STEPS; s++) step(s);
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  optimizer.dispose();
  return (STEPS * B) / seconds;
}

/**
 * Options that let a plugin run here with no setup: the trackers spool every
 * record as in a real run, but MLflow's endpoint is a loopback port nobody
 * listens on (so nothing leaves the machine, and `done` does not wait for it)
 * and W&B runs offline. Without them the MLflow plugin refuses to start.
 */
function benchOptions(closedPort) {
  return {
    '@poke/plugin-mlflow': { trackingUri: `http://127.0.0.1:${closedPort}`, finishTimeout: 0 },
    '@poke/plugin-wandb': { mode: 'offline' },
  };
}

/** A loopback port that was free a moment ago and is closed now. */
function closedLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function builtInPlugins() {
  const scope = join(ROOT, 'node_modules', '@poke');
  if (!existsSync(scope)) return [];
  const options = benchOptions(await closedLoopbackPort());
  return readdirSync(scope)
    // The storage plugin needs a server and the config's storage key; `bench storage` measures it.
    .filter((name) => name.startsWith('plugin-') && name !== 'plugin-storage')
    .map((name) => `@poke/${name}`)
    .map((name) => (options[name] ? [name, options[name]] : name));
}

const pluginName = (spec) => (Array.isArray(spec) ? spec[0] : spec);

/** One event-loop turn, as the Trainer takes after every step. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Takes one more event-loop turn after every other step of the timed epoch (odd
 * steps, or even ones when `even`), and times each step from one afterStep to the
 * next. The Trainer already takes one turn after every step, so the ratio of two
 * adjacent steps, one followed by the extra turn and one not, is what that turn
 * costs, measured on the same run in the same moment (the machine's load changes
 * far more between runs). Rounds alternate `even`, so a difference between odd
 * and even steps cancels out.
 */
function extraTurnEveryOtherStep(pairs, even) {
  return {
    name: 'bench:extra-turn',
    apply(trainer) {
      const extra = (batch) => batch % 2 === (even ? 0 : 1);
      let epoch = -1;
      let last = 0;
      let first = 0;
      trainer.hooks.beforeEpoch.tap('bench:extra-turn', (e) => {
        epoch = e.epoch;
        last = 0;
      });
      trainer.hooks.afterStep.tapPromise('bench:extra-turn', async ({ batch }) => {
        const now = performance.now();
        if (epoch !== 1) return;
        // From batch b-1's afterStep to batch b's: the turns after b-1, then step b.
        if (last) {
          const time = now - last;
          if ((batch - 1) % 2 === 0) first = time;
          else pairs.push(extra(batch - 1) ? time / first : first / time);
        }
        last = now;
        if (extra(batch)) await turn();
      });
    },
  };
}

/** Microseconds per event-loop turn with nothing else pending. */
async function microsecondsPerTurn(count = 20_000) {
  for (let i = 0; i < 1000; i++) await turn();
  const start = performance.now();
  for (let i = 0; i < count; i++) await turn();
  return ((performance.now() - start) * 1000) / count;
}

export async function run() {
  await selectBackend(BACKEND);
  const data = generateSynthetic(dataOptions, 1);
  const plugins = await builtInPlugins();
  const runsDir = mkdtempSync(join(tmpdir(), 'poke-bench-'));
  const results = { bare: [], trainer: [], plugins: [], turn: [] };
  const pairs = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      results.bare.push(await bareLoop(data));
      results.trainer.push(await trainerSamplesPerSecond({ backend: BACKEND, steps: STEPS, plugins: [], runsDir }));
      results.plugins.push(await trainerSamplesPerSecond({ backend: BACKEND, steps: STEPS, plugins, runsDir }));
      results.turn.push(await trainerSamplesPerSecond({ backend: BACKEND, steps: STEPS, plugins: [...plugins, extraTurnEveryOtherStep(pairs, round % 2 === 1)], runsDir }));
    }
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  const bare = median(results.bare);
  const rows = [
    ['bare tfjs loop', results.bare],
    ['Trainer, no plugins', results.trainer],
    [`Trainer, ${plugins.length} built-in plugins`, results.plugins],
    [`Trainer, ${plugins.length} built-in plugins + 1 more turn every 2nd step`, results.turn],
  ].map(([what, values]) => ({
    variant: what,
    'samples/s (median)': Math.round(median(values)).toLocaleString('en-US'),
    'vs bare': (median(values) / bare).toFixed(3),
    rounds: values.map((v) => Math.round(v)).join(' / '),
  }));
  console.log(`\nTrainer overhead — reference MLP ${REFERENCE.features}→${REFERENCE.hidden.join('→')}→${REFERENCE.actions}, batch ${REFERENCE.batchSize}, Adam, ${BACKEND} backend, ${STEPS} timed steps × ${ROUNDS} interleaved rounds`);
  console.log(`built-in plugins: ${plugins.map(pluginName).join(', ') || '(none installed)'}\n`);
  console.log(table(rows, ['variant', 'samples/s (median)', 'vs bare', 'rounds']));
  const overhead = 1 - median(results.trainer) / bare;
  console.log(`\nTrainer overhead without plugins: ${(overhead * 100).toFixed(1)}% (goal: within 3%)`);
  const stepMicros = (REFERENCE.batchSize / median(results.plugins)) * 1e6;
  const micros = await microsecondsPerTurn();
  const sideBySide = pairs.length
    ? `${((median(pairs) - 1) * 100).toFixed(2)}% per step (median of ${pairs.length} pairs of adjacent steps, with one more turn / without; goal: within 1%)`
    : 'n/a (it needs BENCH_STEPS of 3 or more)';
  console.log(
    `Event-loop turn after every step, with ${plugins.length} plugins: ${sideBySide}; ` +
      `alone, one turn takes ${micros.toFixed(1)} µs, ${((micros / stepMicros) * 100).toFixed(3)}% of a ${(stepMicros / 1000).toFixed(1)} ms step`,
  );
}
