// @poke/showdown: demonstration generation speed (battles/s, decisions/s on all cores), then the
// target experiment: train on 2,000 expert battles (vs random), accuracy on 200 held-out battles
// (another seed), win rate of the argmax policy against the random player over 500 battles.
// BENCH_SHOWDOWN_BATTLES / _TEST / _EVAL / _EPOCHS scale it down.
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { predictActions } from '@poke/core';
import { generateDemonstrations, evaluatePolicy, policyAgent, FEATURE_SIZE, ACTION_COUNT } from '@poke/showdown';
import { benchDir, trainShowdownPolicy } from './showdown-policy.js';

const BATTLES = Number(process.env.BENCH_SHOWDOWN_BATTLES ?? 2000);
const TEST = Number(process.env.BENCH_SHOWDOWN_TEST ?? 200);
const EVAL = Number(process.env.BENCH_SHOWDOWN_EVAL ?? 500);
const EPOCHS = Number(process.env.BENCH_SHOWDOWN_EPOCHS ?? 10);
const SPEED = Number(process.env.BENCH_SHOWDOWN_SPEED ?? 200);

function accuracy(model, dataset) {
  let correct = 0;
  for (let start = 0; start < dataset.size; start += 4096) {
    const n = Math.min(4096, dataset.size - start);
    const batch = dataset.gather(Array.from({ length: n }, (_, i) => start + i));
    const predicted = tf.tidy(() => predictActions(model, tf.tensor2d(batch.features, [n, FEATURE_SIZE]), tf.tensor2d(Float32Array.from(batch.masks), [n, ACTION_COUNT])).dataSync());
    for (let i = 0; i < n; i++) if (predicted[i] === batch.labels[i]) correct++;
  }
  return correct / dataset.size;
}

export async function run() {
  const cores = availableParallelism();
  console.log(`## showdown: generation (${cores} cores)`);
  const speed = await generateDemonstrations({ battles: SPEED, seed: 1000 });
  console.log(`${SPEED} expert-vs-random battles in ${speed.seconds.toFixed(1)} s (worker start included): ` +
    `${(SPEED / speed.seconds).toFixed(1)} battles/s, ${(speed.decisions / speed.seconds).toFixed(0)} decisions/s (target ≥ 20 battles/s)`);

  console.log(`## showdown: train on ${BATTLES} expert battles, ${EPOCHS} epochs`);
  const dir = benchDir('showdown');
  try {
    let started = performance.now();
    const { trainer, summary } = await trainShowdownPolicy(dir, { runName: 'bench', data: { battles: BATTLES, seed: 1 }, epochs: EPOCHS });
    console.log(`generated + trained in ${((performance.now() - started) / 1000).toFixed(1)} s: ${trainer.dataset.size} decisions, ` +
      `val_accuracy ${summary.finalMetrics.val_accuracy?.toFixed(4)} (random 10% of decisions)`);
    const test = await generateDemonstrations({ battles: TEST, seed: 2 });
    const held = accuracy(trainer.model, test.dataset);
    console.log(`held-out accuracy on ${TEST} unseen battles (${test.decisions} decisions): ${(100 * held).toFixed(1)}% (target ≥ 85%)`);
    started = performance.now();
    const result = evaluatePolicy(policyAgent(trainer.model), { vs: 'random', battles: EVAL, seed: 3 });
    console.log(`win rate vs random over ${EVAL} battles: ${(100 * result.winRate).toFixed(1)}% ` +
      `(95% CI ${(100 * result.ci95[0]).toFixed(1)}–${(100 * result.ci95[1]).toFixed(1)}%; ${result.wins} won, ${result.losses} lost, ${result.ties} tied) ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s (target ≥ 90%)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
