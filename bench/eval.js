// @poke/showdown: poke eval's speed against random, one battle at a time (each decision its own forward
// pass, as before batching) and with many battles at once (their decisions in one forward pass), on this
// thread and on worker threads over all cores (the forward passes still on this thread), side by side,
// next to demonstration generation on the same machine. The policy is a [256, 256] network trained on the
// default backend on as many battles and epochs as `poke train`'s default (300, 5): how it plays matters,
// since a weaker policy plays longer battles (200 battles and 3 epochs gave 26.6 turns a battle, 300 and 5
// gave 24.4). The expert is also played through eval on the same seeds, answered inside the battles like
// any built-in player: that is eval without a policy to encode for and ask, against which the policy's
// own cost shows.
// Four more settings, at the widest concurrency, bound what a faster eval could gain: the policy with
// forward passes that cost nothing (its own actions, recorded by state in a first run and looked up),
// on this thread and on all cores, and the expert's battles on both. Generation is measured in each
// round beside them.
// Each setting is measured twice, alternating, and the faster kept. Battles differ in length (a policy
// against random plays longer battles than the expert does), so decisions/s are printed beside battles/s:
// the policy's decisions in eval, the demonstrator's in generation, both one side's.
//   BENCH_EVAL_BATTLES      battles per setting (default 200)
//   BENCH_EVAL_CONCURRENCY  the concurrencies, comma-separated (default 1,32,128; the first is the baseline)
//   BENCH_EVAL_GENERATE     battles of generation (default 200)
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { FEATURE_SIZE, builtinAgent, builtinFor, evaluatePolicy, evaluatePolicyParallel, generateDemonstrations, playMatchParallel, policyAgent } from '@poke/showdown';
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

/** A key for one decision's state: its features' bits and its mask (the policy is a function of both). */
function stateKey(features, mask) {
  const bits = new Uint32Array(features.buffer, features.byteOffset, features.length);
  let a = 2166136261;
  let b = 5381;
  for (let i = 0; i < bits.length; i++) {
    a = Math.imul(a ^ bits[i], 16777619);
    b = (Math.imul(b, 33) + bits[i]) | 0;
  }
  return `${a}:${b}:${mask.join('')}`;
}

/**
 * The policy twice: `recording` answers with the model and keeps each state's action; `replaying`
 * answers from what was kept, so its forward passes cost a lookup. A state not kept is asked of the
 * model and counted in `misses`.
 */
function recordThenReplay(model) {
  const real = policyAgent(model);
  const kept = new Map();
  const rows = (features, masks) => masks.map((mask, r) => ({ mask, row: features.subarray(r * FEATURE_SIZE, (r + 1) * FEATURE_SIZE) }));
  const agent = (chooseBatch) => ({ kind: 'policy', chooseBatch, choose: (features, mask) => chooseBatch(features, [mask])[0] });
  const result = {
    misses: 0,
    recording: agent((features, masks) => {
      const actions = real.chooseBatch(features, masks);
      rows(features, masks).forEach(({ mask, row }, r) => kept.set(stateKey(row, mask), actions[r]));
      return actions;
    }),
    replaying: agent((features, masks) =>
      rows(features, masks).map(({ mask, row }) => {
        const action = kept.get(stateKey(row, mask));
        if (action !== undefined) return action;
        result.misses++;
        const asked = real.choose(row, mask);
        kept.set(stateKey(row, mask), asked);
        return asked;
      }),
    ),
  };
  return result;
}

const outcome = (r) => `${r.wins}-${r.losses}-${r.ties}, ${r.meanTurns} turns`;

async function generationRate(workers) {
  const g = await generateDemonstrations({ battles: GENERATE, seed: 1000, workers });
  return { battles: GENERATE / g.seconds, decisions: g.decisions / g.seconds, seconds: g.seconds };
}

const faster = (a, b) => (!a || b.seconds < a.seconds ? b : a);

export async function run() {
  const cores = availableParallelism();
  const dir = benchDir('eval');
  try {
    const model = (await trainShowdownPolicy(dir, { runName: 'eval', data: { battles: 300, seed: 5 }, epochs: 5 })).trainer.model;
    const widest = Math.max(...CONCURRENCY);
    const options = (workers, concurrency) => ({ vs: 'random', battles: BATTLES, seed: 3, concurrency, workers });
    const playPolicy = (agent, workers, concurrency) =>
      workers === 1 ? Promise.resolve(evaluatePolicy(agent, options(1, concurrency))) : evaluatePolicyParallel(agent, options(workers, concurrency));
    // Every concurrency on this thread, then on `cores` workers (all decisions answered here), counting the forward passes.
    const policySettings = [1, cores].flatMap((workers) => CONCURRENCY.map((concurrency) => ({ key: `${workers}/${concurrency}`, workers, concurrency })));
    const replay = recordThenReplay(model);
    const bounds = {
      'free passes, this thread': () => playPolicy(replay.replaying, 1, widest),
      'free passes, workers': () => playPolicy(replay.replaying, cores, widest),
      'expert, this thread': () => playPolicy(builtinAgent('expert', 0), 1, widest),
      'expert, workers': () => playMatchParallel(builtinFor('expert', 0, 'player'), builtinFor('random', 3, 'opponent'), 'random', options(cores, widest)),
    };
    // Each bound plays right after the policy at its setting, so their ratio sees one state of the machine.
    const after = { [`1/${widest}`]: ['free passes, this thread', 'expert, this thread'], [`${cores}/${widest}`]: ['free passes, workers', 'expert, workers'] };
    evaluatePolicy(policyAgent(model), { vs: 'random', battles: 4, seed: 2, concurrency: 1 });
    // The recording run: every state the policy meets in these battles, with its action.
    await playPolicy(replay.recording, cores, widest);
    // Two rounds, the settings alternating, the faster of each kept: a shared machine's load comes and goes.
    const best = new Map();
    const keep = (key, r, count) => {
      const previous = best.get(key);
      if (!previous || r.seconds < previous.r.seconds) best.set(key, { r, count });
      return r.seconds;
    };
    const policyVsExpert = [];
    let oneWorker;
    let allCores;
    for (let round = 0; round < 2; round++) {
      const seconds = {};
      for (const { key, workers, concurrency } of policySettings) {
        const { agent, count } = counted(model);
        seconds[key] = keep(key, await playPolicy(agent, workers, concurrency), count);
        for (const bound of after[key] ?? []) seconds[bound] = keep(bound, await bounds[bound]());
      }
      oneWorker = faster(oneWorker, await generationRate(1));
      allCores = faster(allCores, await generationRate(cores));
      policyVsExpert.push(seconds['expert, this thread'] / seconds[`1/${widest}`]);
    }
    if (replay.misses) console.log(`WARNING: ${replay.misses} states of the replayed policy were not recorded and were asked of the model: the free-pass bounds are slower than free`);
    console.log(`## eval: poke eval vs random, ${BATTLES} battles per setting, backend ${tf.getBackend()}, ${cores} cores`);
    console.log('| threads | concurrency (per thread) | battles/s | decisions/s | rows per forward pass | time in forward passes | × one thread, concurrency 1 | × generation (1 worker) | × generation (all cores) | decisions/s × generation (all cores) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    const first = best.get(`1/${CONCURRENCY[0]}`);
    const base = BATTLES / first.r.seconds;
    const reference = outcome(first.r);
    // The same seed must give the same battles in every setting: a bench that disagrees says so.
    const same = (r) => (outcome(r) === reference ? '' : ` (results differ from one thread at concurrency ${CONCURRENCY[0]}: ${outcome(r)} vs ${reference})`);
    for (const { key, workers, concurrency } of policySettings) {
      const { r, count } = best.get(key);
      const rate = BATTLES / r.seconds;
      const decisions = count.rows / r.seconds;
      const threads = workers === 1 ? '1 (this one)' : `${workers} workers`;
      console.log(`| ${threads} | ${concurrency} | ${rate.toFixed(1)} | ${decisions.toFixed(0)} | ${(count.rows / count.passes).toFixed(1)} | ${((100 * count.ms) / 1000 / r.seconds).toFixed(0)}% | ${(rate / base).toFixed(2)} | ${(rate / oneWorker.battles).toFixed(2)} | ${(rate / allCores.battles).toFixed(2)} | ${(decisions / allCores.decisions).toFixed(2)} |${same(r)}`);
    }
    const rates = (g) => `${g.battles.toFixed(1)} battles/s (${g.decisions.toFixed(0)} decisions/s)`;
    console.log(`generation (expert vs random, ${GENERATE} battles): ${rates(oneWorker)} on 1 worker, ${rates(allCores)} on ${cores} workers (worker start included)`);
    console.log(`battle length: eval ${first.r.meanTurns.toFixed(1)} turns a battle; generation ${(allCores.decisions / allCores.battles).toFixed(1)} demonstrator decisions a battle`);
    console.log(`the policy at one thread, concurrency ${widest}, ran at ${policyVsExpert.map((r) => r.toFixed(2)).join(' and ')}× the expert's battles right after it`);
    // What a faster eval could gain: the policy's battles with forward passes for free, and the expert's battles.
    console.log(`### bounds, concurrency ${widest} (${replay.misses} states not recorded)`);
    console.log('| setting | battles/s | turns a battle | × the policy there | × generation (1 worker) | × generation (all cores) |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, there] of Object.entries(after).flatMap(([there, names]) => names.map((name) => [name, there]))) {
      const { r } = best.get(name);
      const rate = BATTLES / r.seconds;
      const policy = BATTLES / best.get(there).r.seconds;
      const check = name.startsWith('free') ? same(r) : '';
      console.log(`| ${name} | ${rate.toFixed(1)} | ${r.meanTurns.toFixed(1)} | ${(rate / policy).toFixed(2)} | ${(rate / oneWorker.battles).toFixed(2)} | ${(rate / allCores.battles).toFixed(2)} |${check}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
