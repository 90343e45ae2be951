// @poke/showdown: poke eval's speed against random, one battle at a time (each decision its own forward
// pass, as before batching) and with many battles at once (their decisions in one forward pass), side by
// side, next to demonstration generation on the same machine. The policy is a quickly trained [256, 256]
// network on the default backend: its inference cost is a real policy's, its strength does not matter here.
// Each concurrency is measured twice, alternating, and the faster kept.
//   BENCH_EVAL_BATTLES      battles per concurrency (default 200)
//   BENCH_EVAL_CONCURRENCY  the concurrencies, comma-separated (default 1,32,128; the first is the baseline)
//   BENCH_EVAL_GENERATE     battles of generation (default 200)
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { evaluatePolicy, generateDemonstrations, policyAgent } from '@poke/showdown';
import { benchDir, trainShowdownPolicy } from './showdown-policy.js';

const BATTLES = Number(process.env.BENCH_EVAL_BATTLES ?? 200);
const CONCURRENCY = (process.env.BENCH_EVAL_CONCURRENCY ?? '1,32,128').split(',').map(Number);
const GENERATE = Number(process.env.BENCH_EVAL_GENERATE ?? 200);

/** The policy agent, counting its forward passes, their rows and their time. */
function counted(model) {
  const agent = policyAgent(model);
  const count = { passes: 0, rows: 0, ms: 0 };
  const chooseBatch = (features, masks) => {
    const started = performance.now();
    const actions = agent.chooseBatch(features, masks);
    count.ms += performance.now() - started;
    count.passes++;
    count.rows += masks.length;
    return actions;
  };
  return { agent: { ...agent, chooseBatch }, count };
}

const outcome = (r) => `${r.wins}-${r.losses}-${r.ties}, ${r.meanTurns} turns`;

async function generationRate(workers) {
  const g = await generateDemonstrations({ battles: GENERATE, seed: 1000, workers });
  return GENERATE / g.seconds;
}

export async function run() {
  const cores = availableParallelism();
  const dir = benchDir('eval');
  try {
    const model = (await trainShowdownPolicy(dir, { runName: 'eval', data: { battles: 200, seed: 5 }, epochs: 3 })).trainer.model;
    const oneWorker = await generationRate(1);
    const allCores = await generationRate(cores);
    console.log(`## eval: poke eval vs random, ${BATTLES} battles per concurrency, backend ${tf.getBackend()}, ${cores} cores (one thread for eval)`);
    console.log('| concurrency | battles/s | rows per forward pass | time in forward passes | × concurrency 1 | × generation (1 worker) | × generation (all cores) |');
    console.log('|---|---|---|---|---|---|---|');
    // Two rounds, the concurrencies alternating, the faster of each kept: a shared machine's load comes and goes.
    const best = new Map();
    evaluatePolicy(policyAgent(model), { vs: 'random', battles: 4, seed: 2, concurrency: 1 });
    for (let round = 0; round < 2; round++) {
      for (const concurrency of CONCURRENCY) {
        const { agent, count } = counted(model);
        const r = evaluatePolicy(agent, { vs: 'random', battles: BATTLES, seed: 3, concurrency });
        const previous = best.get(concurrency);
        if (!previous || r.seconds < previous.r.seconds) best.set(concurrency, { r, count });
      }
    }
    const base = BATTLES / best.get(CONCURRENCY[0]).r.seconds;
    const reference = outcome(best.get(CONCURRENCY[0]).r);
    for (const concurrency of CONCURRENCY) {
      const { r, count } = best.get(concurrency);
      const rate = BATTLES / r.seconds;
      // The same seed must give the same battles at every concurrency: a bench that disagrees says so.
      const same = outcome(r) === reference ? '' : ` (results differ from concurrency ${CONCURRENCY[0]}: ${outcome(r)} vs ${reference})`;
      console.log(`| ${concurrency} | ${rate.toFixed(1)} | ${(count.rows / count.passes).toFixed(1)} | ${((100 * count.ms) / 1000 / r.seconds).toFixed(0)}% | ${(rate / base).toFixed(2)} | ${(rate / oneWorker).toFixed(2)} | ${(rate / allCores).toFixed(2)} |${same}`);
    }
    console.log(`generation (expert vs random, ${GENERATE} battles): ${oneWorker.toFixed(1)} battles/s on 1 worker, ${allCores.toFixed(1)} battles/s on ${cores} workers (worker start included)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
