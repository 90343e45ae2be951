// Checkpoint save/load throughput vs plain fs + fsync of the same bytes, and the time an
// async save blocks training vs a synchronous save; all measured side by side in one run,
// on each backend. The save's parts are timed alone too: reading the tensors back from the
// backend whole, copying them out 1 MiB at a time into reused buffers as a save does on wasm
// and tensorflow, checksumming (CRC-32C; sha256 too, which checkpoints carried before), and
// writing with fsync. The save and the plain write take turns going first.
//   BENCH_CKPT_HIDDEN       hidden sizes on cpu and tensorflow (default 6000,6000: 48.4M parameters)
//   BENCH_CKPT_HIDDEN_WASM  hidden sizes on wasm, whose 32-bit heap holds less (default 3000,3000)
//   BENCH_CKPT_BACKENDS     backends to measure (default cpu,tensorflow,wasm; one not installed is skipped)
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { open, readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32c } from '@node-rs/crc32';
import { Trainer, resolveConfig, selectBackend, silentLogger } from '@poke/core';
import { heldBytes, snapshotOptimizer, snapshotWeights } from '@poke/core/internal';
import { CheckpointPlugin } from '@poke/plugin-checkpoint';
import { median, table } from './reference.js';

const sizes = (text) => text.split(',').map(Number);
const HIDDEN = { cpu: sizes(process.env.BENCH_CKPT_HIDDEN ?? '6000,6000'), wasm: sizes(process.env.BENCH_CKPT_HIDDEN_WASM ?? '3000,3000') };
const BACKENDS = (process.env.BENCH_CKPT_BACKENDS ?? 'cpu,tensorflow,wasm').split(',');
const FEATURES = Number(process.env.BENCH_CKPT_FEATURES ?? 2048);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

// The bench's own reads (the load, the parts alone) leave hundreds of MB of garbage; collected
// before an async save is timed, so that the time it blocks training is the save's and not a
// collection of the bench's garbage that its first allocation happens to set off.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');

/** A trainer that ran one tiny step on the big model, so Adam has its slots; and its checkpoint plugin. */
async function trainedPlugin(runsDir, name, async, backend) {
  const user = {
    runsDir, runName: name, seed: 1,
    data: { source: 'synthetic', samples: 9, features: FEATURES, actions: 10, valFraction: 0 },
    model: { hiddenSizes: HIDDEN[backend] ?? HIDDEN.cpu, dropout: 0 },
    train: { epochs: 1, batchSize: 8, backend },
  };
  const plugin = new CheckpointPlugin({ async, saveLast: false, onValidate: false, every: { steps: 1_000_000 } });
  const { config } = await resolveConfig({ user, file: undefined, baseDir: runsDir });
  const trainer = new Trainer(config, { plugins: [plugin], baseDir: runsDir, logger: silentLogger });
  await trainer.run();
  return { trainer, plugin };
}

async function plainWrite(dir, files) {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) {
    const handle = await open(join(dir, name), 'w');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
  }
}

/** The tensors' bytes copied where their backend holds them, 1 MiB at a time into four reused buffers; undefined where they are not held (cpu). */
function copyOut(tensors) {
  const held = tensors.map(heldBytes);
  if (held.some((h) => !h)) return undefined;
  const buffers = Array.from({ length: 4 }, () => new Uint8Array(1024 * 1024));
  const t = performance.now();
  let k = 0;
  for (const h of held) {
    for (let at = 0; at < h.byteLength; at += 1024 * 1024, k++) h.copyTo(buffers[k % 4].subarray(0, Math.min(1024 * 1024, h.byteLength - at)), at);
  }
  return performance.now() - t;
}

/** The save's parts alone: the snapshot's tensors copied out as a save does and read back whole, their bytes checksummed (and hashed with sha256, for comparison). */
async function parts(trainer) {
  const tensors = [...snapshotWeights(trainer.model).map((w) => w.tensor), ...snapshotOptimizer(trainer.optimizer).buffers];
  const copy = copyOut(tensors);
  let t = performance.now();
  const data = [];
  for (const tensor of tensors) data.push(await tensor.data());
  const readBack = performance.now() - t;
  const bytes = data.map((values) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  t = performance.now();
  let crc = 0;
  for (const b of bytes) crc = crc32c(b, crc);
  const checksum = performance.now() - t;
  t = performance.now();
  const hash = createHash('sha256');
  for (const b of bytes) hash.update(b);
  hash.digest();
  const sha256 = performance.now() - t;
  for (const tensor of tensors) tensor.dispose();
  return { copy, readBack, checksum, sha256 };
}

/**
 * How long this thread is kept from running anything else until `done` settles:
 * the stretches between turns of a ticker that asks for a turn as often as it can.
 * Only stretches over 1 ms count (shorter ones are the ticker's own), so the total
 * is a lower bound.
 */
async function threadTimeUntil(done) {
  let finished = false;
  const watched = done.finally(() => (finished = true));
  let total = 0;
  let longest = 0;
  let last = performance.now();
  while (!finished) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = performance.now();
    const stretch = now - last;
    if (stretch > 1) {
      total += stretch;
      longest = Math.max(longest, stretch);
    }
    last = now;
  }
  await watched;
  return { total, longest };
}

/**
 * The median of each round's plain ÷ ours: the two ran side by side in a round, in the
 * same state of the page cache, which can change from one round to the next (a write of
 * 580 MB took 0.4 s or 1.8 s). A ratio of the two medians can take them from rounds in
 * different states.
 */
function pairedRatio(ours, plain) {
  return median(ours.map((ms, i) => plain[i] / ms));
}

/** Each round as `plain ÷ ours (ours/plain ms)`. */
function roundByRound(ours, plain) {
  return ours.map((ms, i) => `${(plain[i] / ms).toFixed(2)} (${ms.toFixed(0)}/${plain[i].toFixed(0)} ms)`).join(', ');
}

async function available(backend) {
  try {
    return (await selectBackend(backend)).name === backend;
  } catch {
    return false;
  }
}

export async function run() {
  for (const backend of BACKENDS) {
    if (!(await available(backend))) {
      console.log(`\nCheckpoint I/O on ${backend}: skipped, the backend is not available`);
      continue;
    }
    await runOn(backend);
  }
}

async function runOn(backend) {
  const runsDir = mkdtempSync(join(tmpdir(), 'poke-bench-ckpt-'));
  const trained = [];
  try {
    const sync = await trainedPlugin(runsDir, 'sync', false, backend);
    trained.push(sync);
    const background = await trainedPlugin(runsDir, 'async', true, backend);
    trained.push(background);
    const params = sync.trainer.context.parameterCount;
    const r = { save: [], plainWrite: [], load: [], plainRead: [], syncBlock: [], asyncBlock: [], asyncThread: [], asyncStall: [], readBack: [], copy: [], checksum: [], sha256: [] };
    let bytes = 0;
    let files;
    const plain = async (round) => {
      const t = performance.now();
      await plainWrite(join(runsDir, `plain-${round}`), files);
      r.plainWrite.push(performance.now() - t);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const { trainer } of [sync, background]) trainer.state.globalStep += 1;
      // Which of the two writes first alternates (from the second round, plain fs writes the
      // previous checkpoint's files first): whichever runs first in a round would otherwise
      // always meet the page cache in the same state.
      const plainFirst = round % 2 === 1;
      if (plainFirst) await plain(round);
      let t = performance.now();
      await sync.plugin.save('manual');
      r.save.push(performance.now() - t);
      r.syncBlock.push(performance.now() - t);
      const entry = sync.plugin.manager.getLatest();
      const dir = sync.plugin.manager.pathOf(entry.id);
      bytes = entry.bytes;

      files = await Promise.all(readdirSync(dir).map(async (n) => [n, await readFile(join(dir, n))]));
      if (!plainFirst) await plain(round);
      const load = async () => {
        t = performance.now();
        await sync.plugin.manager.load(entry.id);
        r.load.push(performance.now() - t);
      };
      const plainRead = async () => {
        t = performance.now();
        for (const [name] of files) await readFile(join(runsDir, `plain-${round}`, name));
        r.plainRead.push(performance.now() - t);
      };
      // The reads take turns at going first too: the first to allocate its buffers meets memory not used yet.
      for (const read of plainFirst ? [plainRead, load] : [load, plainRead]) await read();

      const alone = await parts(sync.trainer);
      r.readBack.push(alone.readBack);
      if (alone.copy !== undefined) r.copy.push(alone.copy);
      r.checksum.push(alone.checksum);
      r.sha256.push(alone.sha256);

      collectGarbage();
      t = performance.now();
      await background.plugin.save('manual');
      r.asyncBlock.push(performance.now() - t);
      const occupied = await threadTimeUntil(background.plugin.manager.idle());
      r.asyncThread.push(occupied.total);
      r.asyncStall.push(occupied.longest);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The plain copies stay until the end, as the checkpoints do: a write into memory freed
      // by deleting a file just before runs several times faster on this machine than one into
      // memory not used yet, so deleting one side's files would favour it.
    }
    const mbs = (ms) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
    const hidden = HIDDEN[backend] ?? HIDDEN.cpu;
    console.log(`\nCheckpoint I/O on ${backend} — ${(params / 1e6).toFixed(1)}M parameters (${FEATURES}→${hidden.join('→')}→10), ${(bytes / 1e6).toFixed(0)} MB per checkpoint with Adam slots, median of ${ROUNDS}; vs plain fs is the median of each round's plain ÷ ours\n`);
    console.log(table([
      { what: 'save (checkpoint)', ms: m.save.toFixed(0), 'MB/s': mbs(m.save), 'vs plain fs': pairedRatio(r.save, r.plainWrite).toFixed(2) },
      { what: 'write (plain fs + fsync)', ms: m.plainWrite.toFixed(0), 'MB/s': mbs(m.plainWrite), 'vs plain fs': '1.00' },
      { what: 'load + verify (checkpoint)', ms: m.load.toFixed(0), 'MB/s': mbs(m.load), 'vs plain fs': pairedRatio(r.load, r.plainRead).toFixed(2) },
      { what: 'read (plain fs)', ms: m.plainRead.toFixed(0), 'MB/s': mbs(m.plainRead), 'vs plain fs': '1.00' },
    ], ['what', 'ms', 'MB/s', 'vs plain fs']));
    console.log(`\nSave vs plain fs + fsync round by round, as plain ÷ save (save/plain; plain first in rounds 2, 4, …): ${roundByRound(r.save, r.plainWrite)}`);
    console.log(`Load + verify vs plain read round by round, the same way: ${roundByRound(r.load, r.plainRead)}`);
    // On wasm and tensorflow the save reads nothing back: it copies from where the backend holds the tensors, 1 MiB at a time, into one of four buffers it writes from.
    const taken = r.copy.length ? `copying the tensors out 1 MiB at a time as a save does ${m.copy.toFixed(0)} ms (reading them back whole, which a save here does not do: ${m.readBack.toFixed(0)} ms)` : `reading the tensors back whole ${m.readBack.toFixed(0)} ms`;
    console.log(`\nWhere a save's time goes, each part alone: ${taken}, CRC-32C ${m.checksum.toFixed(0)} ms (sha256, which checkpoints carried before: ${m.sha256.toFixed(0)} ms), write + fsync ${m.plainWrite.toFixed(0)} ms (save: ${m.save.toFixed(0)} ms)`);
    console.log(`\nTraining blocked by a save: sync ${m.syncBlock.toFixed(0)} ms, async ${m.asyncBlock.toFixed(0)} ms = ${((m.asyncBlock / m.syncBlock) * 100).toFixed(1)}% (goal: ≤ 1%); round by round, async ${r.asyncBlock.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    console.log(`While an async save writes, the training thread is busy with it ${m.asyncThread.toFixed(0)} ms in all (copying or reading back, checksumming), ${m.asyncStall.toFixed(0)} ms at the longest stretch`);
  } finally {
    // Two large models per backend: freed before the next backend makes its own.
    for (const { trainer } of trained) {
      trainer.dispose();
    }
    rmSync(runsDir, { recursive: true, force: true });
  }
}
