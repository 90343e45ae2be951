import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { POKE_BIN, REPO_ROOT, startPoke, tempDir } from './helpers.js';
import type { Running } from './helpers.js';
import { skipOrFail } from '../../../test/requirements.js';

/**
 * Ctrl-C stops a run after the current step whatever plugins are tapped. The
 * default plugins (checkpoint, retention, csv) tap afterStep without doing I/O
 * on most steps, so awaiting them never gives the event loop a turn; the trainer
 * must yield itself. Each test holds the run at a known step with a plugin that
 * waits synchronously (fixtures/gate.mjs), sends the signal, then lets it go: the
 * run must stop at exactly that step, not at the end of the epoch.
 */
const STEPS_PER_EPOCH = 1125; // 18,000 training samples in batches of 16
const CONFIG = {
  seed: 5,
  data: { source: 'synthetic', samples: 20_000 },
  model: { hiddenSizes: [16] },
  train: { epochs: 2, batchSize: 16, logEvery: 10, backend: 'cpu' },
  plugins: ['@poke/plugin-checkpoint', '@poke/plugin-retention', '@poke/plugin-csv'],
};

async function project(): Promise<string> {
  const dir = await tempDir('signals');
  await writeFile(join(dir, 'poke.config.json'), JSON.stringify(CONFIG));
  await copyFile(join(REPO_ROOT, 'packages', 'cli', 'test', 'fixtures', 'gate.mjs'), join(dir, 'gate.mjs'));
  return dir;
}

function gateFlag(dir: string, at: number, extra: Record<string, unknown> = {}): string {
  return `./gate.mjs=${JSON.stringify({ at, dir, ...extra })}`;
}

/** Resolves when `file` exists; rejects if the process ends first (so a failure never hangs). */
async function fileAppears(file: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  while (!existsSync(file)) {
    if (done) throw new Error(`the process ended before ${file} appeared`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runJson(dir: string, run: string) {
  return JSON.parse(await readFile(join(dir, 'runs', run, 'run.json'), 'utf8'));
}

async function latestCheckpointStep(dir: string, run: string): Promise<number> {
  const manifest = JSON.parse(await readFile(join(dir, 'runs', run, 'checkpoints', 'checkpoints.json'), 'utf8'));
  return manifest.entries.find((e: { id: string }) => e.id === manifest.latest).step;
}

describe('poke train: signals with the default plugins', function () {
  this.timeout(180_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops after the current step, mid-epoch, and saves it`, async () => {
      const dir = await project();
      const run = startPoke(['train', '--no-progress', '--run-name', 'r', '--plugin', gateFlag(dir, 40)], dir);
      await fileAppears(join(dir, 'ready'), run.result);
      run.kill(signal);
      await writeFile(join(dir, 'go'), '');
      const outcome = await run.result;
      expect(outcome.code, outcome.stderr).to.equal(130);
      expect(outcome.stderr).to.include(`${signal}: stopping after the current step`);
      const info = await runJson(dir, 'r');
      expect(info.status).to.equal('interrupted');
      expect(info.progress.globalStep, `stopped at step ${info.progress.globalStep} of an epoch of ${STEPS_PER_EPOCH}`).to.equal(40);
      expect(await latestCheckpointStep(dir, 'r')).to.equal(40);
    });
  }

  it('a second SIGINT aborts at once while the first stop is still finishing, and run.json says interrupted', async () => {
    const dir = await project();
    const run = startPoke(['train', '--no-progress', '--run-name', 'r', '--plugin', gateFlag(dir, 25, { stallDone: true })], dir);
    await fileAppears(join(dir, 'ready'), run.result);
    run.kill('SIGINT');
    await writeFile(join(dir, 'go'), '');
    await fileAppears(join(dir, 'stalled'), run.result);
    run.kill('SIGINT');
    const outcome = await run.result;
    expect(outcome.code, outcome.stderr).to.equal(130);
    expect(outcome.stderr).to.include('SIGINT again: aborting now');
    const info = await runJson(dir, 'r');
    expect(info.status).to.equal('interrupted');
    expect(info.progress.globalStep).to.equal(25);
  });

  it('Ctrl-C on a terminal with the progress bar drawn stops after the current step', async function () {
    if (!existsSync('/usr/bin/script')) skipOrFail(this, { missing: '/usr/bin/script (util-linux) is not installed', fix: 'apt-get install -y util-linux (as root)' });
    const dir = await project();
    // `script` gives poke a pseudo-terminal, so the bar is drawn and ^C is a real terminal interrupt.
    const command = [process.execPath, POKE_BIN, 'train', '--run-name', 'r', '--plugin', gateFlag(dir, 300)]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: dir, env: { ...process.env, COLUMNS: '120' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await fileAppears(join(dir, 'ready'), exited);
    child.stdin.write('\x03');
    // The terminal sends SIGINT to poke, then echoes ^C: once the echo shows, the signal is pending.
    while (!screen.includes('^C')) {
      const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]);
      if (gone) break;
    }
    await writeFile(join(dir, 'go'), '');
    const code = await exited;
    child.stdin.end();
    expect(screen, 'progress bar').to.match(/epoch 1\/2 .*step/);
    expect(screen).to.include('SIGINT: stopping after the current step');
    expect(code, screen.slice(-2000)).to.equal(130);
    const info = await runJson(dir, 'r');
    expect(info.status).to.equal('interrupted');
    expect(info.progress.globalStep).to.equal(300);
  });
});

export type { Running };
