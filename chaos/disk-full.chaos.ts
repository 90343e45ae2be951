import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summary, tempDir, poke, verifyCheckpoints, leftovers } from './support.js';
import { skipOrFail } from '../test/requirements.js';

// A small tmpfs: the first checkpoints fit, a later one hits ENOSPC. Mounting needs root, as CI has:
// without it the scenario is a listed skip (a failure under POKE_REQUIRE_ALL=1, as CI sets), and so
// with POKE_SKIP_MOUNT=1. As root, a mount that fails (no CAP_SYS_ADMIN) fails the scenario.
const SIZE = '9m';

function config(onSaveError: 'stop' | 'continue', runsDir: string) {
  return {
    runsDir,
    seed: 1,
    // ≈ 300k parameters: weights + Adam slots ≈ 3.6 MB per checkpoint.
    data: { source: 'synthetic', samples: 512, features: 64, actions: 10 },
    model: { hiddenSizes: [512, 512] },
    train: { epochs: 6, batchSize: 128, backend: 'cpu' },
    plugins: [['@poke/plugin-checkpoint', { onSaveError }], '@poke/plugin-csv'],
  };
}

describe('chaos: full disk', function () {
  this.timeout(5 * 60_000);
  let mount: string;
  let dir: string;

  before(async function () {
    if (process.env.POKE_SKIP_MOUNT === '1') skipOrFail(this, { missing: 'POKE_SKIP_MOUNT=1 is set', fix: 'unset POKE_SKIP_MOUNT' });
    if (process.getuid?.() !== 0) skipOrFail(this, { missing: 'mounting the small tmpfs needs root', fix: 'sudo npm run test:chaos' });
    dir = await tempDir('disk');
    mount = join(dir, 'small-disk');
    await mkdir(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', mount]);
  });

  after(() => {
    if (mount) execFileSync('umount', [mount]);
  });

  beforeEach(async () => {
    for (const name of await readdir(mount)) await rm(join(mount, name), { recursive: true, force: true });
  });

  it('onSaveError stop: the run ends with one clear line; earlier checkpoints and the manifest stay intact', async () => {
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config('stop', mount)));
    const outcome = await poke(['train', '--no-progress', '--run-name', 'stop'], dir);
    expect(outcome.code, outcome.stderr).to.equal(2);
    const lastLine = outcome.stderr.trim().split('\n').at(-1)!;
    expect(lastLine).to.match(/^poke: plugin poke:checkpoint failed in afterValidate: checkpoint epoch\d{4}-step\d{8}: save failed: no space left on device \(ENOSPC\)/);
    expect(lastLine).to.include('the previous checkpoints and the manifest are intact');
    expect(outcome.stderr).to.not.match(/^\s+at /m);
    const runDir = join(mount, 'stop');
    const verified = await verifyCheckpoints(runDir);
    expect(verified).to.be.greaterThan(0);
    expect(await leftovers(runDir)).to.deep.equal([]);
    expect(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')).status).to.equal('failed');
    summary.push({ scenario: 'full disk, stop', runs: 1, faults: 1, resumed: 0, recordsLost: 0, notes: `ENOSPC reported in one line; ${verified} earlier checkpoints verify` });
  });

  it('onSaveError continue: training goes on with one warning and completes', async () => {
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config('continue', mount)));
    const outcome = await poke(['train', '--no-progress', '--run-name', 'cont'], dir);
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stderr.match(/no space left on device \(ENOSPC\).*training continues/g)).to.have.length(1);
    const runDir = join(mount, 'cont');
    const verified = await verifyCheckpoints(runDir);
    expect(await leftovers(runDir)).to.deep.equal([]);
    const info = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
    expect(info).to.include({ status: 'completed' });
    expect(info.progress.epoch).to.equal(6);
    summary.push({ scenario: 'full disk, continue', runs: 1, faults: 1, resumed: 0, recordsLost: 0, notes: `one warning, run completed; ${verified} checkpoints verify` });
  });
});
