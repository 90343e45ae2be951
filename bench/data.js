// Training from a shard set larger than memory (streamed within data.memoryBudgetMB) against
// the same model on an in-memory set of 1/10 the size, side by side in one run: samples/s,
// their ratio, and each process's peak RSS. The sets are written to a temp folder, flushed to
// disk before any run, and removed. The two take turns going first over BENCH_ROUNDS rounds
// (default 4); the target is judged on the median of the rounds' ratios.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE, median, table } from './reference.js';

const HERE = fileURLToPath(import.meta.url);
const SHARD_SAMPLES = 32768;
const BYTES_PER_SAMPLE = REFERENCE.features * 4 + 4 + REFERENCE.actions;
const TARGET_BYTES = Number(process.env.BENCH_DATA_GB ?? 8.5) * 2 ** 30;
const BUDGET_MB = 640;
const STEPS = Number(process.env.BENCH_DATA_STEPS ?? 600);
// Even, so that each run goes second as often as first.
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4));

/** A shard of random samples (every action legal, so any label is valid); cheap to make, distinct per shard. */
function shardBytes(k) {
  const n = SHARD_SAMPLES;
  const bytes = Buffer.alloc(n * BYTES_PER_SAMPLE);
  const features = new Float32Array(bytes.buffer, bytes.byteOffset, n * REFERENCE.features);
  let x = (k + 1) * 2654435761 >>> 0;
  for (let i = 0; i < features.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    features[i] = x / 4294967296 - 0.5;
  }
  const labels = new Int32Array(bytes.buffer, bytes.byteOffset + n * REFERENCE.features * 4, n);
  for (let i = 0; i < n; i++) labels[i] = (i * 7 + k) % REFERENCE.actions;
  bytes.fill(1, n * (REFERENCE.features * 4 + 4));
  return bytes;
}

function writeSet(dir, shards) {
  mkdirSync(dir, { recursive: true });
  const index = { format: 'poke-shards', version: 1, featureSize: REFERENCE.features, actionCount: REFERENCE.actions, shards: [] };
  for (let k = 0; k < shards; k++) {
    const bytes = shardBytes(k);
    const file = `shard-${String(k).padStart(5, '0')}.bin`;
    writeFileSync(join(dir, file), bytes);
    index.shards.push({ file, samples: SHARD_SAMPLES, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return shards * SHARD_SAMPLES * BYTES_PER_SAMPLE;
}

/** In a child process: train STEPS steps on the set at `path`; samples/s after the first step, and peak RSS. */
async function child(path, runsDir, budgetMB) {
  const { Trainer, resolveConfig, silentLogger } = await import('@poke/core');
  const user = {
    runsDir,
    seed: 1,
    data: { source: 'shards', path, valFraction: 0, memoryBudgetMB: budgetMB },
    model: { hiddenSizes: REFERENCE.hidden, dropout: 0 },
    // Epochs enough to reach STEPS on the small set too; the run stops there.
    train: { epochs: 1000, batchSize: REFERENCE.batchSize, logEvery: 50 },
  };
  const { config } = await resolveConfig({ user, file: undefined, baseDir: dirname(path) });
  const trainer = new Trainer(config, { baseDir: dirname(path), logger: silentLogger });
  let start = 0;
  let seconds = 0;
  trainer.hooks.afterStep.tap('bench', ({ globalStep }) => {
    if (globalStep === 1) start = performance.now();
    if (globalStep === STEPS) {
      seconds = (performance.now() - start) / 1000;
      trainer.stop('bench');
    }
  });
  await trainer.run();
  const streamed = trainer.dataset.constructor.name === 'ShardStream';
  console.log(JSON.stringify({ rate: ((STEPS - 1) * REFERENCE.batchSize) / seconds, rssMB: process.resourceUsage().maxRSS / 1024, streamed }));
}

function measure(path, runsDir, budgetMB) {
  const result = spawnSync(process.execPath, [HERE, '--child', path, runsDir, String(budgetMB)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`bench child failed for ${path}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'poke-bench-data-'));
  try {
    const shards = Math.ceil(TARGET_BYTES / (SHARD_SAMPLES * BYTES_PER_SAMPLE));
    console.log(`\nData — writing ${shards} shards of ${SHARD_SAMPLES} samples (${REFERENCE.features} float32 features) to ${dir} …`);
    const large = writeSet(join(dir, 'large'), shards);
    const small = writeSet(join(dir, 'small'), Math.max(1, Math.round(shards / 10)));
    // Otherwise the first run would train while the kernel writes 8 GB of dirty pages back.
    spawnSync('sync');
    const runsDir = join(dir, 'runs');
    const streamedRuns = [];
    const inMemoryRuns = [];
    const streamedRun = () => streamedRuns.push(measure(join(dir, 'large'), runsDir, BUDGET_MB));
    // A budget above the small set's size: it is loaded whole.
    const inMemoryRun = () => inMemoryRuns.push(measure(join(dir, 'small'), runsDir, 4096));
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) (streamedRun(), inMemoryRun());
      else (inMemoryRun(), streamedRun());
    }
    const ratios = streamedRuns.map((s, i) => s.rate / inMemoryRuns[i].rate);
    const summary = (runs) => ({
      mode: runs.every((r) => r.streamed) ? 'streamed' : runs.some((r) => r.streamed) ? 'mixed' : 'in memory',
      rate: median(runs.map((r) => r.rate)),
      rssMB: Math.max(...runs.map((r) => r.rssMB)),
    });
    const streamed = summary(streamedRuns);
    const inMemory = summary(inMemoryRuns);
    const gb = (n) => `${(n / 2 ** 30).toFixed(2)} GB`;
    console.log(`reference MLP ${REFERENCE.features}→${REFERENCE.hidden.join('→')}→${REFERENCE.actions}, batch ${REFERENCE.batchSize}, ${STEPS} steps each, data.memoryBudgetMB ${BUDGET_MB}, ${ROUNDS} rounds (median samples/s, highest peak RSS)\n`);
    console.log(table([
      { set: `large, ${gb(large)} on disk`, mode: streamed.mode, 'samples/s': Math.round(streamed.rate), 'peak RSS': `${Math.round(streamed.rssMB)} MB` },
      { set: `small, ${gb(small)} on disk`, mode: inMemory.mode, 'samples/s': Math.round(inMemory.rate), 'peak RSS': `${Math.round(inMemory.rssMB)} MB` },
    ], ['set', 'mode', 'samples/s', 'peak RSS']));
    console.log(`\nstreamed / in memory in each round (the in-memory run first in rounds 2, 4, …): ${ratios.map((r) => r.toFixed(3)).join(', ')}; median ${median(ratios).toFixed(3)}`);
    console.log(`targets: peak RSS of the streamed runs ≤ 1536 MB (got ${Math.round(streamed.rssMB)}); samples/s ≥ 0.9× in memory (median ratio ${median(ratios).toFixed(3)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], Number(process.argv[5]));
