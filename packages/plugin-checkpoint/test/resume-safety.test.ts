import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, readlink, lstat, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { poke, startPoke } from '../../cli/test/helpers.js';
import { tempDir } from './helpers.js';

/**
 * Resuming through the `poke` binary, as a user or a job scheduler does it:
 * corrupt checkpoints are set aside and saved again, a resume that fails
 * changes nothing, and `--resume auto` is one command that can always be re-run.
 * 600 samples in batches of 64: 9 steps an epoch, a checkpoint at every epoch's end.
 */
const CONFIG = {
  seed: 7,
  data: { source: 'synthetic', samples: 600, features: 12, actions: 5 },
  model: { hiddenSizes: [16] },
  train: { epochs: 3, batchSize: 64, logEvery: 3, backend: 'cpu' },
  plugins: ['@poke/plugin-checkpoint', '@poke/plugin-csv'],
};

async function project(config: object = CONFIG): Promise<string> {
  const dir = await tempDir('resume-safety');
  await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
  return dir;
}

async function train(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return poke(['train', '--no-progress', ...args], dir, env);
}

/** Every path under `root` with its file's sha256 or its link's target: equal trees are byte-identical. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const stat = await lstat(path);
      if (stat.isSymbolicLink()) out[prefix + name] = `-> ${await readlink(path)}`;
      else if (stat.isDirectory()) await walk(path, `${prefix}${name}/`);
      else out[prefix + name] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  };
  await walk(root, '');
  return out;
}

async function manifest(runDir: string) {
  return JSON.parse(await readFile(join(runDir, 'checkpoints', 'checkpoints.json'), 'utf8'));
}

async function runJson(runDir: string) {
  return JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
}

/** metrics.csv without what may differ between two runs of the same steps. */
async function rows(runDir: string): Promise<Array<Record<string, string>>> {
  const records = parse(await readFile(join(runDir, 'metrics.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
  return records.map(({ timestamp: _t, samples_per_sec: _s, ...rest }) => rest);
}

function expectStepsOnceInOrder(table: Array<Record<string, string>>): void {
  const steps = table.map((r) => Number(r.step));
  expect(steps).to.deep.equal([...new Set(steps)].sort((a, b) => a - b));
}

describe('resume safety (through poke train)', function () {
  this.timeout(240_000);

  describe('corrupt checkpoints', () => {
    it('a resume that falls back past a corrupt latest saves that step again; best and latest end on checkpoints that verify', async () => {
      const dir = await project();
      expect((await train(dir, ['--run-name', 'smoke'])).code).to.equal(0);
      const runDir = join(dir, 'runs', 'w4');
      await cp(join(dir, 'runs', 'smoke'), runDir, { recursive: true, verbatimSymlinks: true });
      const { latest } = await manifest(runDir);
      expect(latest).to.equal('epoch0003-step00000027');
      await truncate(join(runDir, 'checkpoints', latest, 'weights.bin'), 100);

      const resumed = await train(dir, ['--run-name', 'w4', '--resume']);
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(resumed.stderr).to.match(/skipped checkpoints that failed verification: checkpoint epoch0003-step00000027: weights\.bin/);
      expect(resumed.stderr).to.include('checkpoint: saved epoch0003-step00000027');
      expect((await runJson(runDir)).status).to.equal('completed');

      const verify = await poke(['ckpt', 'verify', 'runs/w4'], dir);
      expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
      const after = await manifest(runDir);
      expect(after.latest).to.equal('epoch0003-step00000027');
      expect(await readlink(join(runDir, 'checkpoints', 'latest'))).to.equal(after.latest);
      expect(await readlink(join(runDir, 'checkpoints', 'best'))).to.equal(after.best);
      const aside = await readdir(join(runDir, 'checkpoints', 'corrupt'));
      expect(aside).to.have.length(1);
      expect(aside[0]).to.match(/^epoch0003-step00000027-/);
      expect(await rows(runDir)).to.deep.equal(await rows(join(dir, 'runs', 'smoke')));
    });

    it('a best that does not verify is set aside on resume and the best is decided again among the rest', async () => {
      // Monitoring val_loss with mode max makes the best an early epoch, not the latest.
      const dir = await project({ ...CONFIG, plugins: [['@poke/plugin-checkpoint', { mode: 'max' }], '@poke/plugin-csv'] });
      expect((await train(dir, ['--run-name', 'r'])).code).to.equal(0);
      const runDir = join(dir, 'runs', 'r');
      const before = await manifest(runDir);
      expect(before.best).to.not.equal(before.latest);
      await truncate(join(runDir, 'checkpoints', before.best, 'weights.bin'), 100);

      const resumed = await train(dir, ['--run-name', 'r', '--resume', '--set', 'train.epochs=4']);
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(resumed.stderr).to.include(`checkpoint ${before.best} failed verification`);
      const verify = await poke(['ckpt', 'verify', 'runs/r'], dir);
      expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
      const after = await manifest(runDir);
      expect(after.best).to.be.a('string').and.not.equal(before.best);
      expect(after.entries.map((e: { id: string }) => e.id)).to.not.include(before.best);
    });
  });

  describe('a resume that fails', () => {
    it('leaves the run folder byte-identical: an id that does not exist, and a best that does not verify', async () => {
      const dir = await project();
      expect((await train(dir, ['--run-name', 'r'])).code).to.equal(0);
      const runDir = join(dir, 'runs', 'r');

      const before = await tree(runDir);
      const typo = await train(dir, ['--run-name', 'r', '--resume', 'epoch0009-step00000999']);
      expect(typo.code, typo.stderr).to.equal(2);
      expect(typo.stderr).to.include('checkpoint epoch0009-step00000999');
      expect(await tree(runDir)).to.deep.equal(before);

      const { best } = await manifest(runDir);
      await truncate(join(runDir, 'checkpoints', best, 'weights.bin'), 100);
      const corrupt = await tree(runDir);
      const failed = await train(dir, ['--run-name', 'r', '--resume', 'best']);
      expect(failed.code, failed.stderr).to.equal(2);
      expect(failed.stderr).to.include(`checkpoint ${best}: weights.bin`);
      expect(await tree(runDir)).to.deep.equal(corrupt);
      expect((await runJson(runDir)).status).to.equal('completed');
    });
  });

  describe('--resume auto', () => {
    it('starts a missing run, and the same command again continues it without training a step twice', async () => {
      const dir = await project();
      const runDir = join(dir, 'runs', 'job');
      const first = await train(dir, ['--run-name', 'job', '--resume', 'auto']);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stderr).to.include('does not exist yet: starting the run');
      const rowsAfterFirst = await rows(runDir);

      const again = await train(dir, ['--run-name', 'job', '--resume', 'auto', '--set', 'train.epochs=4']);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.include('continuing');
      expect(again.stderr).to.include('resume: loaded checkpoint epoch0003-step00000027');
      const info = await runJson(runDir);
      expect(info).to.include({ status: 'completed', resumes: 1 });
      const table = await rows(runDir);
      expectStepsOnceInOrder(table);
      expect(table.slice(0, rowsAfterFirst.length)).to.deep.equal(rowsAfterFirst);
      expect(Number(table.at(-1)!.step)).to.equal(36);
    });

    it('after a kill during start-up (before run.json exists) starts the run in the folder left behind', async () => {
      const dir = await project();
      const killed = await train(dir, ['--run-name', 'job', '--resume', 'auto'], { POKE_FAULT_AT: 'atomic-rename:run.json' });
      expect(killed.signal).to.equal('SIGKILL');
      const left = await readdir(join(dir, 'runs', 'job'));
      expect(left).to.not.include('run.json');

      const plainResume = await train(dir, ['--run-name', 'job', '--resume']);
      expect(plainResume.code).to.equal(2);
      expect(plainResume.stderr).to.include('is not a poke run');

      const rerun = await train(dir, ['--run-name', 'job', '--resume', 'auto']);
      expect(rerun.code, rerun.stderr).to.equal(0);
      expect(rerun.stderr).to.include('has no run.json (stopped during start-up): starting the run in it');
      expect(await runJson(join(dir, 'runs', 'job'))).to.include({ status: 'completed', resumes: 0 });
    });

    it('after a kill during training continues from the newest checkpoint and ends like an uninterrupted run', async () => {
      const dir = await project();
      expect((await train(dir, ['--run-name', 'straight'])).code).to.equal(0);
      const job = startPoke(['train', '--no-progress', '--run-name', 'job', '--resume', 'auto'], dir);
      await job.waitFor(/checkpoint: saved epoch0001-step00000009/);
      job.kill('SIGKILL');
      expect((await job.result).signal).to.equal('SIGKILL');

      const rerun = await train(dir, ['--run-name', 'job', '--resume', 'auto']);
      expect(rerun.code, rerun.stderr).to.equal(0);
      expect(rerun.stderr).to.include('continuing');
      const table = await rows(join(dir, 'runs', 'job'));
      expectStepsOnceInOrder(table);
      expect(table).to.deep.equal(await rows(join(dir, 'runs', 'straight')));
    });

    it('refuses, changing nothing, when no checkpoint can continue a run that trained steps', async () => {
      const dir = await project();
      expect((await train(dir, ['--run-name', 'job'])).code).to.equal(0);
      const runDir = join(dir, 'runs', 'job');
      await rm(join(runDir, 'checkpoints'), { recursive: true });
      const before = await tree(runDir);
      const refused = await train(dir, ['--run-name', 'job', '--resume', 'auto']);
      expect(refused.code, refused.stderr).to.equal(2);
      expect(refused.stderr).to.include('trained 27 steps but has no checkpoint to continue from');
      expect(await tree(runDir)).to.deep.equal(before);

      const noCheckpointPlugin = await train(dir, ['--run-name', 'job', '--resume', 'auto', '--no-plugin', '@poke/plugin-checkpoint']);
      expect(noCheckpointPlugin.code, noCheckpointPlugin.stderr).to.equal(2);
      expect(await tree(runDir)).to.deep.equal(before);
    });

    it('needs a run name', async () => {
      const dir = await project();
      const result = await train(dir, ['--resume', 'auto']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('--resume auto needs a run name');
    });
  });
});
