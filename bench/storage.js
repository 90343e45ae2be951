// Object storage: upload throughput of a checkpoint through the storage plugin vs a bare
// lib-storage upload of the same bytes to the same server, and training samples/s with
// background uploads vs without storage; measured side by side in one run, against a real
// S3-compatible server (s3proxy, fetched into the cache like the tests do) on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, createReadStream } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { Upload } from '@aws-sdk/lib-storage';
import { Trainer, resolveConfig, silentLogger } from '@poke/core';
import { CheckpointPlugin } from '@poke/plugin-checkpoint';
import { storage, openStorage, pushCheckpoints, RunLayout } from '@poke/plugin-storage';
import { median, table } from './reference.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HIDDEN = (process.env.BENCH_STORAGE_HIDDEN ?? '6000,6000').split(',').map(Number);
const FEATURES = Number(process.env.BENCH_STORAGE_FEATURES ?? 2048);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OPTIONS = { stallSeconds: 60, partSize: 16 * 1024 * 1024, queueSize: 4, retrySeconds: 5 };

async function startServer() {
  const jar = execFileSync('bash', [join(ROOT, 'scripts', 'install-s3proxy.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n').at(-1);
  const { S3Server } = await tsImport('../test/s3-server.ts', import.meta.url);
  const server = await S3Server.launch(jar);
  Object.assign(process.env, server.env);
  return server;
}

function storageConfig(server, prefix) {
  return { url: `s3://${server.bucket}/${prefix}`, endpoint: server.endpoint, forcePathStyle: true };
}

/** One checkpoint of a big model (Adam slots included), saved by the checkpoint plugin. */
async function bigCheckpoint(runsDir) {
  const user = {
    runsDir, runName: 'big', seed: 1,
    data: { source: 'synthetic', samples: 9, features: FEATURES, actions: 10, valFraction: 0 },
    model: { hiddenSizes: HIDDEN, dropout: 0 },
    train: { epochs: 1, batchSize: 8, backend: 'cpu' },
  };
  const plugin = new CheckpointPlugin({ saveLast: true, onValidate: false, every: { steps: 1_000_000 } });
  const { config } = await resolveConfig({ user, file: undefined, baseDir: runsDir });
  const trainer = new Trainer(config, { plugins: [plugin], baseDir: runsDir, logger: silentLogger });
  await trainer.run();
  const entry = plugin.manager.getLatest();
  return { params: trainer.context.parameterCount, dir: plugin.manager.dir, id: entry.id, bytes: entry.bytes };
}

/** The same files through lib-storage alone: no hashing, no marker, no size check. */
async function bareUpload(bucket, prefix, folder) {
  for (const name of readdirSync(folder).sort()) {
    await new Upload({
      client: bucket.client,
      params: { Bucket: bucket.name, Key: `${prefix}/${name}`, Body: createReadStream(join(folder, name)) },
      partSize: OPTIONS.partSize,
      queueSize: OPTIONS.queueSize,
    }).done();
  }
}

/** samples/s of one training run, with the storage plugin or without. */
async function trainingRate(runsDir, name, server) {
  const user = {
    runsDir, runName: name, seed: 3,
    data: { source: 'synthetic', samples: 4000, features: 128, actions: 10 },
    model: { hiddenSizes: [256, 256] },
    train: { epochs: 2, batchSize: 64, backend: 'cpu', logEvery: 50 },
    ...(server ? { storage: storageConfig(server, 'training') } : {}),
  };
  const { config } = await resolveConfig({ user, file: undefined, baseDir: runsDir });
  const plugins = [new CheckpointPlugin({ async: true, every: { steps: 20 } }), ...(server ? [storage(OPTIONS)] : [])];
  const trainer = new Trainer(config, { plugins, baseDir: runsDir, logger: silentLogger });
  const summary = await trainer.run();
  return summary.samplesSeen / summary.seconds;
}

export async function run() {
  const server = await startServer();
  const runsDir = mkdtempSync(join(tmpdir(), 'poke-bench-storage-'));
  try {
    const ckpt = await bigCheckpoint(runsDir);
    const { bucket } = openStorage(storageConfig(server, 'bench'), OPTIONS);
    const r = { plugin: [], bare: [], withStorage: [], without: [] };
    // Connections and credentials resolved before anything is timed.
    await bucket.list('warmup/');
    const plugin = async (round) => {
      // A fresh prefix each time: the plugin uploads only what the server lacks.
      const t = performance.now();
      await pushCheckpoints(bucket, new RunLayout(`plugin-${round}`, 'big'), ckpt.dir, silentLogger);
      r.plugin.push(performance.now() - t);
    };
    const bare = async (round) => {
      const t = performance.now();
      await bareUpload(bucket, `bare-${round}`, join(ckpt.dir, ckpt.id));
      r.bare.push(performance.now() - t);
    };
    // Alternating which goes first, so neither always finds the server's disk cache warmer.
    for (let round = 0; round < ROUNDS; round++) {
      for (const upload of round % 2 === 0 ? [plugin, bare] : [bare, plugin]) await upload(round);
    }
    await trainingRate(runsDir, 'warmup', undefined);
    for (let round = 0; round < ROUNDS; round++) {
      const pair = [
        async () => r.without.push(await trainingRate(runsDir, `without-${round}`, undefined)),
        async () => r.withStorage.push(await trainingRate(runsDir, `with-${round}`, server)),
      ];
      for (const train of round % 2 === 0 ? pair : pair.reverse()) await train();
    }
    bucket.client.destroy();
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
    const mbs = (ms) => (ckpt.bytes / 1e6 / (ms / 1000)).toFixed(0);
    console.log(`\nObject storage (s3proxy on 127.0.0.1) — a ${(ckpt.params / 1e6).toFixed(1)}M-parameter checkpoint, ${(ckpt.bytes / 1e6).toFixed(0)} MB with Adam slots, median of ${ROUNDS}\n`);
    console.log(table([
      { what: 'upload (storage plugin: sha256, multipart, size check, commit marker)', ms: m.plugin.toFixed(0), 'MB/s': mbs(m.plugin), 'vs bare lib-storage': (m.bare / m.plugin).toFixed(2) },
      { what: 'upload (bare lib-storage, same files, same part size)', ms: m.bare.toFixed(0), 'MB/s': mbs(m.bare), 'vs bare lib-storage': '1.00' },
    ], ['what', 'ms', 'MB/s', 'vs bare lib-storage']));
    console.log(`\nUpload throughput: ${(m.bare / m.plugin).toFixed(2)}× bare lib-storage (goal: ≥ 0.8×)`);
    console.log(`Training with uploads behind it: ${m.withStorage.toFixed(0)} samples/s vs ${m.without.toFixed(0)} without storage = ${(m.withStorage / m.without).toFixed(2)}× (goal: ≥ 0.95×)`);
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
    await server.dispose();
  }
}
