// Samples/s of the reference MLP on each tfjs backend (the poke Trainer) and in PyTorch,
// side by side in one run, as ratios to PyTorch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@poke/core';
import { REFERENCE, median, table, trainerSamplesPerSecond } from './reference.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// cpu is ~30× slower than the others: fewer steps keep the run short without changing the rate.
const STEPS = { cpu: 4, wasm: 40, tensorflow: 60 };
const PYTHON = process.env.BENCH_TORCH_PYTHON ?? '/usr/bin/python3';
// Even, so that each side goes second as often as first: the second of a pair measured slower either way.
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));

async function available(backend) {
  try {
    return (await selectBackend(backend)).name === backend;
  } catch {
    return false;
  }
}

/** PyTorch on the same MLP; OpenBLAS tuning variables are unset for this command only (they slow a current OpenBLAS). */
function torchReference() {
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const result = spawnSync(PYTHON, [join(HERE, 'torch_reference.py'), '60'], { env, encoding: 'utf8' });
  if (result.status !== 0) {
    const why = /No module named 'torch'/.test(result.stderr) ? 'PyTorch is not installed (apt-get install python3-torch libopenblas0-pthread)' : result.stderr.trim().split('\n').at(-1);
    return { skipped: why };
  }
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

/** The faster of two results: a shared machine's load comes and goes, and a rate can only be lowered by it. */
const faster = (a, b) => (!a?.samples_per_sec || (b?.samples_per_sec ?? 0) > a.samples_per_sec ? b : a);

export async function run() {
  const runsDir = mkdtempSync(join(tmpdir(), 'poke-bench-backends-'));
  const rows = ['tensorflow', 'wasm', 'cpu'].map((backend) => ({ backend, rate: undefined, note: '' }));
  let torch;
  // tensorflow / PyTorch of each round: the two run back to back, so a round's ratio sees one state of a
  // shared machine whose speed moves by a third from minute to minute, where the best of each may not.
  const paired = [];
  const measureTorch = () => {
    const result = torchReference();
    torch = faster(torch, result);
    return result;
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let tensorflow;
      // PyTorch goes first in rounds 2, 4, …, so neither side always meets what the other left behind.
      const early = round % 2 === 1 ? measureTorch() : undefined;
      // wasm and cpu (first round only) before tensorflow, so that tensorflow and PyTorch stay back to back.
      for (const row of [...rows.slice(1), rows[0]]) {
        const { backend } = row;
        if (round > 0 && backend !== 'tensorflow') continue;
        if (!(await available(backend))) {
          row.note = backend === 'tensorflow' ? 'not installed (scripts/build-tfjs-node.sh builds it)' : 'failed to initialise';
          continue;
        }
        const rate = await trainerSamplesPerSecond({ backend, steps: STEPS[backend], runsDir });
        if (backend === 'tensorflow') tensorflow = rate;
        row.rate = Math.max(row.rate ?? 0, rate);
        row.note = `poke Trainer, ${STEPS[backend]} timed steps${backend === 'tensorflow' ? `, best of ${ROUNDS}` : ''}`;
      }
      const result = early ?? measureTorch();
      if (result.skipped) break;
      if (tensorflow) paired.push(tensorflow / result.samples_per_sec);
    }
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  if (torch.samples_per_sec) rows.push({ backend: 'PyTorch', rate: torch.samples_per_sec, note: `torch ${torch.version}, ${torch.threads} intra-op thread${torch.threads === 1 ? '' : 's'}, ${torch.blas}, best of ${ROUNDS}` });
  const reference = torch.samples_per_sec ?? rows.find((r) => r.backend === 'wasm')?.rate;
  const against = torch.samples_per_sec ? 'PyTorch' : 'wasm';
  console.log(`\nBackends — reference MLP ${REFERENCE.features}→${REFERENCE.hidden.join('→')}→${REFERENCE.actions}, batch ${REFERENCE.batchSize}, Adam, masked cross-entropy\n`);
  if (!torch.samples_per_sec) console.log(`PyTorch skipped: ${torch.skipped}; ratios are to wasm\n`);
  console.log(table(
    rows.map((r) => ({
      backend: r.backend,
      'samples/s': r.rate === undefined ? '-' : Math.round(r.rate).toLocaleString('en-US'),
      [`vs ${against}`]: r.rate === undefined ? '-' : (r.rate / reference).toFixed(3),
      note: r.note,
    })),
    ['backend', 'samples/s', `vs ${against}`, 'note'],
  ));
  if (paired.length) {
    console.log(`\ntensorflow / PyTorch in each round (the two back to back, PyTorch first in rounds 2, 4, …): ${paired.map((r) => r.toFixed(3)).join(', ')}; median ${median(paired).toFixed(3)}`);
  }
}
