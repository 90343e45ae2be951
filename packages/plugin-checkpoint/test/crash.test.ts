import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@poke/core';
import { CheckpointManager } from '@poke/plugin-checkpoint';
import { tempDir, readJson, REPO_ROOT } from './helpers.js';

const POKE = join(REPO_ROOT, 'packages', 'cli', 'bin', 'poke.js');
const KILLS = Number(process.env.POKE_CRASH_KILLS ?? 30);
const SEED = Number(process.env.POKE_CRASH_SEED ?? 20261128);

const CONFIG = {
  seed: 5,
  data: { source: 'synthetic', samples: 1200, features: 48, actions: 8 },
  model: { hiddenSizes: [128, 128], dropout: 0.1 },
  train: { epochs: 60, batchSize: 32, logEvery: 10, backend: 'cpu' },
  plugins: [['@poke/plugin-checkpoint', { every: { steps: 4 } }]],
};

/** Start `poke train`; resolve with its exit code and signal, after killing it at `killAfterMs` if given. */
function train(dir: string, args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [POKE, 'train', '--no-progress', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

async function latestWeightsHash(runDir: string): Promise<string> {
  const manifest = await readJson(join(runDir, 'checkpoints', 'checkpoints.json'));
  return (await readJson(join(runDir, 'checkpoints', manifest.latest, 'metadata.json'))).files['weights.bin'].sha256;
}

describe('plugin-checkpoint under SIGKILL', function () {
  this.timeout(15 * 60_000);

  it(`keeps every checkpoint valid and resumable across ${KILLS} kills at random moments, ending with the weights of an uninterrupted run`, async () => {
    const dir = await tempDir('sigkill');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(CONFIG));
    const rng = Rng.fromSeed(SEED);
    const runDir = join(dir, 'runs', 'chaos');
    let killed = 0;
    let duringSave = 0;
    let resumed = 0;
    let verified = 0;
    for (let attempt = 0; killed < KILLS && attempt < KILLS * 3; attempt++) {
      const started = existsSync(join(runDir, 'run.json'));
      const args = started ? ['--run-name', 'chaos', '--resume'] : ['--run-name', 'chaos'];
      // Start-up takes most of a second; kill anywhere from start-up to well into training.
      const result = await train(dir, args, 300 + rng.nextBelow(1700));
      if (started) resumed++;
      expect(result.signal, `the run finished before kill ${killed + 1}; give it more epochs`).to.equal('SIGKILL');
      killed++;
      const ckpts = join(runDir, 'checkpoints');
      if (!existsSync(join(ckpts, 'checkpoints.json'))) continue;
      if ((await readdir(ckpts)).some((n) => n.startsWith('.tmp-'))) duringSave++;
      const manager = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' } });
      const results = await manager.verifyAll();
      verified += results.length;
      expect(results.filter((r) => !r.ok), `after kill ${killed}`).to.deep.equal([]);
    }
    const finish = await train(dir, ['--run-name', 'chaos', '--resume']);
    expect(finish.code, finish.stderr).to.equal(0);
    expect((await readdir(join(runDir, 'checkpoints'))).filter((n) => n.startsWith('.tmp-'))).to.deep.equal([]);
    expect((await readJson(join(runDir, 'run.json'))).status).to.equal('completed');

    // The reference needs only its final checkpoint.
    const straight = await train(dir, ['--run-name', 'straight', '--no-plugin', 'checkpoint', '--plugin', 'checkpoint={"every":"epoch"}']);
    expect(straight.code, straight.stderr).to.equal(0);
    expect(await latestWeightsHash(runDir)).to.equal(await latestWeightsHash(join(dir, 'runs', 'straight')));
    console.log(`      ${killed} SIGKILLs (${duringSave} mid-save), ${resumed} resumes, ${verified} checkpoint verifications, 0 failures (seed ${SEED})`);
    expect(killed).to.equal(KILLS);
  });
});
