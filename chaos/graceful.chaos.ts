import { expect } from 'chai';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summary, tempDir, start, poke, holdAt, verifyCheckpoints, csvRows, comparable, assertStepsOnceInOrder, latestWeightsHash } from './support.js';

const CONFIG = {
  seed: 3,
  data: { source: 'synthetic', samples: 3000, features: 32, actions: 6 },
  model: { hiddenSizes: [64] },
  train: { epochs: 4, batchSize: 32, logEvery: 7, backend: 'cpu' },
  plugins: [['@poke/plugin-checkpoint', { every: { steps: 50 } }], '@poke/plugin-csv'],
};

async function runJson(dir: string, run: string) {
  return JSON.parse(await readFile(join(dir, 'runs', run, 'run.json'), 'utf8'));
}

describe('chaos: graceful stop', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let straightRows: Array<Record<string, string>>;

  before(async () => {
    dir = await tempDir('graceful');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(CONFIG));
    const straight = await poke(['train', '--no-progress', '--run-name', 'straight'], dir);
    expect(straight.code, straight.stderr).to.equal(0);
    straightRows = comparable(await csvRows(join(dir, 'runs', 'straight', 'metrics.csv')));
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-epoch saves a last checkpoint, flushes metrics, marks run.json interrupted and exits 130; resume ends like an uninterrupted run`, async () => {
      const run = signal.toLowerCase();
      // Step 100 is in the second epoch (94 steps each).
      const child = start(['train', '--run-name', run, ...holdAt(100)], dir);
      await child.waitFor(/^test: holding at step 100$/m);
      child.kill(signal);
      const outcome = await child.result;
      expect(outcome.code, outcome.stderr).to.equal(130);
      expect(outcome.stderr).to.include(`${signal}: stopping after the current step`);
      const info = await runJson(dir, run);
      expect(info.status).to.equal('interrupted');
      const manifest = JSON.parse(await readFile(join(dir, 'runs', run, 'checkpoints', 'checkpoints.json'), 'utf8'));
      const last = manifest.entries.find((e: { id: string }) => e.id === manifest.latest);
      // The last checkpoint holds the step the run stopped at (saved as `last`, or already saved by a trigger).
      expect(last.step).to.equal(info.progress.globalStep);
      expect(info.progress.globalStep, 'stopped mid-epoch, after the step it was on').to.equal(100);
      await verifyCheckpoints(join(dir, 'runs', run));
      const rows = await csvRows(join(dir, 'runs', run, 'metrics.csv'));
      assertStepsOnceInOrder(rows);
      expect(Number(rows.at(-1)!.step)).to.be.at.most(last.step);

      const resumed = await poke(['train', '--no-progress', '--run-name', run, '--resume'], dir);
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(comparable(await csvRows(join(dir, 'runs', run, 'metrics.csv')))).to.deep.equal(straightRows);
      expect(await latestWeightsHash(join(dir, 'runs', run))).to.equal(await latestWeightsHash(join(dir, 'runs', 'straight')));
      summary.push({ scenario: `graceful ${signal}`, runs: 2, faults: 1, resumed: 1, recordsLost: 0, notes: `exit 130, last checkpoint at step ${last.step}` });
    });
  }

  it('a second SIGINT aborts at once without corrupting anything', async () => {
    // At step 60 the checkpoint of step 50 is saved; the stop then waits until the second SIGINT.
    const child = start(['train', '--run-name', 'double', ...holdAt(60, { holdStop: true })], dir);
    await child.waitFor(/^test: holding at step 60$/m);
    child.kill('SIGINT');
    await child.waitFor(/^test: holding the stop$/m);
    expect(child.child.exitCode, 'still stopping').to.equal(null);
    child.kill('SIGINT');
    const outcome = await child.result;
    expect(outcome.code).to.equal(130);
    expect(outcome.stderr).to.include('SIGINT again: aborting now');
    const verified = await verifyCheckpoints(join(dir, 'runs', 'double'));
    expect(verified).to.be.greaterThan(0);
    assertStepsOnceInOrder(await csvRows(join(dir, 'runs', 'double', 'metrics.csv')));
    const resumed = await poke(['train', '--no-progress', '--run-name', 'double', '--resume'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(comparable(await csvRows(join(dir, 'runs', 'double', 'metrics.csv')))).to.deep.equal(straightRows);
    summary.push({ scenario: 'double SIGINT', runs: 2, faults: 2, resumed: 1, recordsLost: 0, notes: `${verified} checkpoints verified after the abort` });
  });

  it('a second trainer on a run folder in use is refused with a clear message', async () => {
    // Held at step 60 until the SIGINT below, however long the second trainer takes to start.
    const child = start(['train', '--run-name', 'busy', ...holdAt(60)], dir);
    await child.waitFor(/^test: holding at step 60$/m);
    const second = await poke(['train', '--run-name', 'busy', '--resume'], dir);
    child.kill('SIGINT');
    await child.result;
    expect(second.code).to.equal(2);
    expect(second.stderr.trim().split('\n').at(-1)).to.match(/^poke: run folder .*busy is in use by process \d+/);
    summary.push({ scenario: 'one trainer per run folder', runs: 2, faults: 1, resumed: 0, recordsLost: 0, notes: 'second refused (exit 2); stale locks taken over in the SIGKILL scenario' });
  });
});
