// Ranking 1,000 runs: compareRuns reads manifests, the best checkpoint's metadata and
// metrics.csv (no weights). Side by side: the same runs when every checkpoint's metadata is read.
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { compareRuns } from '@poke/plugin-compare';
import { median, table } from './reference.js';

const best = (xs) => Math.min(...xs);

const RUNS = Number(process.env.BENCH_COMPARE_RUNS ?? 1000);
const CHECKPOINTS = 5;
const ROWS = 100;
const ROUNDS = 5;

export function makeRuns(root) {
  for (let r = 0; r < RUNS; r++) {
    const dir = join(root, `run-${String(r).padStart(4, '0')}`);
    const ckpts = join(dir, 'checkpoints');
    mkdirSync(ckpts, { recursive: true });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: String(r), name: `run-${r}`, status: 'completed', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T01:00:00Z' }));
    const entries = [];
    for (let c = 1; c <= CHECKPOINTS; c++) {
      const id = `epoch${String(c).padStart(4, '0')}-step${String(c * 100).padStart(8, '0')}`;
      const value = 1 / c + (r % 97) / 1000;
      entries.push({ id, epoch: c, step: c * 100, timestamp: 't', value, bytes: 1000, reason: 'validation' });
      mkdirSync(join(ckpts, id));
      const file = { sha256: '0'.repeat(64), bytes: 1 };
      writeFileSync(join(ckpts, id, 'metadata.json'), JSON.stringify({
        format: 'poke-checkpoint', version: 1, id, uid: 'u', epoch: c, step: c * 100, timestamp: 't', train_loss: value, train_accuracy: 0.5,
        val_loss: value, val_accuracy: 0.5, metrics: {}, reason: 'validation', monitor: { name: 'val_loss', mode: 'min', value },
        config: {}, files: { 'model.json': file, 'weights.bin': file, 'optimizer.json': file, 'optimizer.bin': file, 'state.json': file },
        versions: { poke: '0', tfjs: '0' }, backend: 'cpu', runId: String(r),
      }));
      writeFileSync(join(ckpts, id, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'k', shape: [64, 10], dtype: 'float32' }] }] }));
    }
    const best = entries.at(-1).id;
    writeFileSync(join(ckpts, 'checkpoints.json'), JSON.stringify({ format: 'poke-checkpoints', version: 1, monitor: { name: 'val_loss', mode: 'min' }, entries, best, latest: best }));
    const lines = ['step,epoch,timestamp,loss,val_loss'];
    for (let i = 1; i <= ROWS; i++) lines.push(`${i * 5},${Math.floor(i / 20)},2026-01-01T00:00:00Z,${1 / i},${i % 20 === 0 ? 1 / i : ''}`);
    writeFileSync(join(dir, 'metrics.csv'), lines.join('\n') + '\n');
  }
}

/** What a tool that opens every checkpoint's metadata (as the source did) would read on top. */
async function readEveryMetadata(root) {
  const rows = [];
  for (let r = 0; r < RUNS; r++) {
    const ckpts = join(root, `run-${String(r).padStart(4, '0')}`, 'checkpoints');
    const manifest = JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8'));
    for (const e of manifest.entries) rows.push(JSON.parse(await readFile(join(ckpts, e.id, 'metadata.json'), 'utf8')));
  }
  return rows;
}

export async function run() {
  const root = mkdtempSync(join(tmpdir(), 'poke-bench-compare-'));
  try {
    makeRuns(root);
    const times = { compare: [], csv: [], every: [] };
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      const rows = await compareRuns([root]);
      times.compare.push(performance.now() - t);
      if (rows.length !== RUNS || rows[0].rank !== 1 || rows[0].valueSource !== 'best-checkpoint') throw new Error('unexpected ranking');
      t = performance.now();
      const byLoss = await compareRuns([root], { metric: 'loss' });
      times.csv.push(performance.now() - t);
      if (byLoss.length !== RUNS || byLoss[0].valueSource !== 'metrics.csv') throw new Error('unexpected ranking by loss');
      t = performance.now();
      await readEveryMetadata(root);
      times.every.push(performance.now() - t);
    }
    const row = (what, xs) => ({ what, 'median ms': median(xs).toFixed(0), 'best ms': best(xs).toFixed(0), 'runs/s (median)': Math.round(RUNS / (median(xs) / 1000)).toLocaleString('en-US') });
    console.log(`\nCompare — ${RUNS} runs, ${CHECKPOINTS} checkpoints and ${ROWS} metrics.csv rows each, ${ROUNDS} rounds\n`);
    console.log(table([
      row('compareRuns (manifest, best metadata, model.json; metrics.csv only when the metric is not the monitor)', times.compare),
      row('compareRuns --metric loss (not the monitor: every metrics.csv parsed)', times.csv),
      row('naive: reading every checkpoint metadata.json, nothing else', times.every),
    ], ['what', 'median ms', 'best ms', 'runs/s (median)']));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
