import { expect } from 'chai';
import { readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Rng } from '@poke/core';
import { CheckpointManager } from '@poke/plugin-checkpoint';
import { poke, startPoke } from '../../cli/test/helpers.js';
import { tempDir, readJson, latestWeightsHash } from './helpers.js';

const KILLS = Number(process.env.POKE_CRASH_KILLS ?? 30);
const SEED = Number(process.env.POKE_CRASH_SEED ?? 20261128);

const CONFIG = {
  seed: 5,
  data: { source: 'synthetic', samples: 1200, features: 48, actions: 8 },
  model: { hiddenSizes: [128, 128], dropout: 0.1 },
  // 1,360 steps. A session keeps at most its 6th save's steps (24), a few more if it saves during the
  // 49 ms wait, so 30 kills end long before the run would.
  train: { epochs: 40, batchSize: 32, logEvery: 10, backend: 'cpu' },
  plugins: [['@poke/plugin-checkpoint', { every: { steps: 4 } }]],
};

/** What the checkpoint plugin prints after each save (it is on disk and in the manifest by then). */
const SAVED = /^checkpoint: saved /m;

/**
 * Start `poke train` and SIGKILL it at a point chosen from what it has printed, never
 * from the time since spawn, so the test does not depend on how fast the machine is.
 * Most kills come 0–49 ms after the child's Nth save of this session (N from 1 to 6):
 * the save proves the run is under way, and the short random wait spreads the kills
 * over the save cycle (saves take a few steps apart), mid-save included. A resumed run
 * is sometimes killed during start-up instead: on its `data:` line (before it restores
 * the checkpoint) or its `resumed at` line (before its first save).
 */
async function trainAndKill(dir: string, resume: boolean, rng: Rng, attempt: number): Promise<{ signal: string | null; stderr: string }> {
  const child = startPoke(['train', '--no-progress', '--run-name', 'chaos', ...(resume ? ['--resume'] : [])], dir);
  if (resume && attempt % 7 === 3) await child.waitFor(/^data: /m);
  else if (resume && attempt % 7 === 6) await child.waitFor(/^resumed at /m);
  else {
    await child.waitFor(SAVED, 1 + rng.nextBelow(6));
    await delay(rng.nextBelow(50));
  }
  child.kill('SIGKILL');
  const { signal, stderr } = await child.result;
  return { signal, stderr };
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
      const result = await trainAndKill(dir, started, rng, attempt);
      if (started) resumed++;
      expect(result.signal, `the run ended before kill ${killed + 1}:\n${result.stderr}`).to.equal('SIGKILL');
      killed++;
      const ckpts = join(runDir, 'checkpoints');
      if (!existsSync(join(ckpts, 'checkpoints.json'))) continue;
      if ((await readdir(ckpts)).some((n) => n.startsWith('.tmp-'))) duringSave++;
      const manager = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' } });
      const results = await manager.verifyAll();
      verified += results.length;
      expect(results.filter((r) => !r.ok), `after kill ${killed}`).to.deep.equal([]);
    }
    const finish = await poke(['train', '--no-progress', '--run-name', 'chaos', '--resume'], dir);
    expect(finish.code, finish.stderr).to.equal(0);
    expect((await readdir(join(runDir, 'checkpoints'))).filter((n) => n.startsWith('.tmp-'))).to.deep.equal([]);
    expect((await readJson(join(runDir, 'run.json'))).status).to.equal('completed');

    // The reference needs only its final checkpoint.
    const straight = await poke(['train', '--no-progress', '--run-name', 'straight', '--no-plugin', 'checkpoint', '--plugin', 'checkpoint={"every":"epoch"}'], dir);
    expect(straight.code, straight.stderr).to.equal(0);
    expect(await latestWeightsHash(runDir)).to.equal(await latestWeightsHash(join(dir, 'runs', 'straight')));
    console.log(`      ${killed} SIGKILLs (${duringSave} mid-save), ${resumed} resumes, ${verified} checkpoint verifications, 0 failures (seed ${SEED})`);
    expect(killed).to.equal(KILLS);
  });
});
