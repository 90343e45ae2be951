import { expect } from 'chai';
import { writeFile, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Rng } from '@poke/core';
import { summary, tempDir, start, poke, holdAt, verifyCheckpoints, csvRows, comparable, assertStepsOnceInOrder, latestWeightsHash, leftovers } from './support.js';

const KILLS = Number(process.env.POKE_CHAOS_KILLS ?? 50);
const SEED = Number(process.env.POKE_CHAOS_SEED ?? 7);

/** Every fifth run dies at one of these points instead of at a random moment: windows a timer rarely hits. */
const FAILPOINTS = [
  ['checkpoint-before-rename:3', 'mid-save'],
  ['prune-before-rm:2', 'mid-prune'],
  ['atomic-rename:metrics.csv', 'mid-CSV-rewrite'],
  ['checkpoint-before-manifest:2', 'mid-save'],
  ['atomic-rename:checkpoints.json:4', 'mid-manifest-write'],
] as const;

/** What the checkpoint plugin prints after each save (it is on disk and in the manifest by then). */
const SAVED = /^checkpoint: saved /m;

/** 1,200 samples, 10% held out for validation, batches of 32. */
const STEPS_PER_EPOCH = 34;

const CONFIG = {
  seed: 11,
  data: { source: 'synthetic', samples: 1200, features: 48, actions: 8 },
  model: { hiddenSizes: [128, 128], dropout: 0.1 },
  train: { epochs: 100, batchSize: 32, logEvery: 5, backend: 'cpu' },
  plugins: [
    ['@poke/plugin-checkpoint', { every: { steps: 4 } }],
    ['@poke/plugin-retention', { maxToKeep: 3, keepBest: 2 }],
    '@poke/plugin-csv',
  ],
};

/**
 * A step a few steps past the latest checkpoint whose metrics.csv row comes after every
 * checkpoint: logged (a multiple of logEvery), not a step trigger (every 4) and not an epoch's
 * end (which saves at validation).
 */
async function stepWithRowAfterCheckpoint(runDir: string): Promise<number> {
  const manifest = join(runDir, 'checkpoints', 'checkpoints.json');
  const latest = existsSync(manifest) ? Math.max(0, ...JSON.parse(await readFile(manifest, 'utf8')).entries.map((e: { step: number }) => e.step)) : 0;
  let step = latest + 5;
  while (step % CONFIG.train.logEvery !== 0 || step % 4 === 0 || step % STEPS_PER_EPOCH === 0) step++;
  return step;
}

describe('chaos: SIGKILL at random moments', function () {
  this.timeout(20 * 60_000);

  it(`${KILLS} kills, each followed by --resume, lose nothing and end where an uninterrupted run ends`, async () => {
    const dir = await tempDir('sigkill');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(CONFIG));
    const runDir = join(dir, 'runs', 'chaos');
    const rng = Rng.fromSeed(SEED);
    const counts = { kills: 0, midSave: 0, midPrune: 0, midCsvRewrite: 0, resumed: 0, verified: 0, failpoints: 0 };
    const injected: Record<string, number> = {};
    while (counts.kills < KILLS) {
      const started = existsSync(join(runDir, 'run.json'));
      const point = counts.kills % 5 === 4 ? FAILPOINTS[Math.floor(counts.kills / 5) % FAILPOINTS.length]! : undefined;
      const env = point ? { POKE_FAULT_AT: point[0] } : {};
      // Kill points come from what the child has printed, never from the time since spawn, so
      // a slow or busy machine changes nothing. A failpoint run kills itself at its point; one
      // that never reaches it is killed after 20 saves. The run before each failpoint run dies
      // held at a step with a metrics.csv row after its last checkpoint, so the resume that
      // follows rewrites metrics.csv (where one failpoint is). One in five resumes dies during
      // start-up, on its `data:` line or its `resumed at` line. The others die 0–49 ms after their
      // Nth save (N from 1 to 6): the save proves the run is under way, the wait spreads kills
      // over the save cycle, mid-save included.
      const heldAt = counts.kills % 5 === 3 ? await stepWithRowAfterCheckpoint(runDir) : undefined;
      const args = ['train', '--no-progress', '--run-name', 'chaos', ...(started ? ['--resume'] : []), ...(heldAt ? holdAt(heldAt) : [])];
      const child = start(args, dir, env);
      if (point) await child.waitFor(SAVED, 20);
      else if (heldAt) await child.waitFor(new RegExp(`^test: holding at step ${heldAt}$`, 'm'));
      else if (started && counts.kills % 5 === 1) await child.waitFor(counts.kills % 10 === 1 ? /^data: /m : /^resumed at /m);
      else {
        await child.waitFor(SAVED, 1 + rng.nextBelow(6));
        await delay(rng.nextBelow(50));
      }
      const killedByTest = child.child.exitCode === null && child.child.signalCode === null;
      child.kill('SIGKILL');
      const outcome = await child.result;
      if (started) counts.resumed++;
      expect(outcome.signal, `the run ended before kill ${counts.kills + 1}:\n${outcome.stderr}`).to.equal('SIGKILL');
      counts.kills++;
      if (point && !killedByTest) injected[point[1]] = (injected[point[1]] ?? 0) + 1;
      if (!existsSync(join(runDir, 'run.json'))) continue;
      const ckpts = join(runDir, 'checkpoints');
      if ((await leftovers(runDir)).length) counts.midSave++;
      if (existsSync(join(ckpts, 'checkpoints.json')) && JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8')).deleting) counts.midPrune++;
      if ((await readdir(runDir)).some((n) => n.startsWith('.metrics.csv.tmp-'))) counts.midCsvRewrite++;
      counts.verified += await verifyCheckpoints(runDir);
      if (existsSync(join(runDir, 'metrics.csv'))) assertStepsOnceInOrder(await csvRows(join(runDir, 'metrics.csv')));
    }
    const finish = await poke(['train', '--no-progress', '--run-name', 'chaos', '--resume'], dir);
    expect(finish.code, finish.stderr).to.equal(0);
    counts.resumed++;
    expect(await leftovers(runDir), 'no temporary folders after the next start').to.deep.equal([]);
    expect(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')).status).to.equal('completed');
    counts.verified += await verifyCheckpoints(runDir);

    const straight = await poke(['train', '--no-progress', '--run-name', 'straight', '--no-plugin', 'checkpoint', '--plugin', 'checkpoint={"every":"epoch"}'], dir);
    expect(straight.code, straight.stderr).to.equal(0);
    const expected = comparable(await csvRows(join(dir, 'runs', 'straight', 'metrics.csv')));
    const actual = comparable(await csvRows(join(runDir, 'metrics.csv')));
    const have = new Set(actual.map((r) => JSON.stringify(r)));
    const lost = expected.filter((r) => !have.has(JSON.stringify(r))).length;
    expect(actual).to.deep.equal(expected);
    expect(await latestWeightsHash(runDir)).to.equal(await latestWeightsHash(join(dir, 'runs', 'straight')));

    const points = Object.entries(injected).map(([k, v]) => `${v} ${k}`).join(', ');
    console.log(
      `      ${counts.kills} SIGKILLs (failpoints: ${points}; found after random kills: ${counts.midSave} mid-save, ${counts.midPrune} mid-prune, ${counts.midCsvRewrite} mid-CSV-rewrite), ` +
        `${counts.resumed} resumes (each taking over a stale lock), ${counts.verified} checkpoint verifications, ${expected.length} metric rows compared`,
    );
    summary.push({
      scenario: 'SIGKILL + resume',
      runs: counts.kills + 1,
      faults: counts.kills,
      resumed: counts.resumed,
      recordsLost: lost,
      notes: `failpoints: ${points}; weights = uninterrupted`,
    });
  });
});
