/**
 * `tensorboard --logdir runs` (the pinned venv, its default data server) on 127.0.0.1:
 * the scalars HTTP API serves poke's values, and headless Chromium renders the
 * scalars and HParams dashboards (POKE_UPDATE_SCREENSHOT=1 refreshes docs/images).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { poke } from '../../cli/test/helpers.js';
import { REPO_ROOT } from '../../core/test/helpers.js';
import { freePort } from '../../plugin-mlflow/test/server.js';
import { skipOrFail } from '../../../test/requirements.js';
import { requireTensorboard } from './install.js';
import { csvByStep, configFor, projectWith } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('plugin-tensorboard: tensorboard --logdir', function () {
  this.timeout(300_000);
  let dir: string;
  let url: string;
  let server: ChildProcess | undefined;
  let log = '';

  before(async function () {
    const bin = await requireTensorboard(this);
    dir = await projectWith(configFor());
    for (const [name, lr] of [['lr-1e-3', 0.001], ['lr-3e-3', 0.003]] as const) {
      const result = await poke(['train', '--run-name', name, '--set', `train.learningRate=${lr}`], dir);
      if (result.code !== 0) throw new Error(result.stderr);
    }
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(bin, ['--logdir', join(dir, 'runs'), '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    server.stdout!.on('data', (d: Buffer) => (log += d));
    server.stderr!.on('data', (d: Buffer) => (log += d));
    // Up when the runs list has both runs (the data server loads the folder in the background).
    for (;;) {
      if (server.exitCode !== null) throw new Error(`tensorboard exited ${server.exitCode}:\n${log}`);
      const runs = await fetch(`${url}/data/runs`).then((r) => (r.ok ? r.json() : []), () => []);
      if (runs.length === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      process.kill(-server.pid!, 'SIGTERM');
      await exited;
    }
  });

  async function scalars(run: string, tag: string): Promise<Array<[number, number, number]>> {
    const response = await fetch(`${url}/data/plugin/scalars/scalars?run=${encodeURIComponent(run)}&tag=${tag}`);
    expect(response.status, await response.clone().text()).to.equal(200);
    return response.json() as Promise<Array<[number, number, number]>>;
  }

  it('serves every step of every metric once, the float32 of metrics.csv', async () => {
    for (const name of ['lr-1e-3', 'lr-3e-3']) {
      const csv = await csvByStep(join(dir, 'runs', name, 'metrics.csv'));
      for (const tag of ['loss', 'accuracy', 'lr', 'val_loss']) {
        const expected = [...csv].filter(([, row]) => tag in row).map(([step, row]) => [step, Math.fround(row[tag]!)]);
        // The data server loads in the background: wait until the last step is there.
        let points = await scalars(`${name}/tensorboard`, tag);
        while (points.length < expected.length) points = await new Promise((r) => setTimeout(r, 250)).then(() => scalars(`${name}/tensorboard`, tag));
        expect(points.map(([, step, value]) => [step, value]), `${name} ${tag}`).to.deep.equal(expected);
      }
    }
  });

  it('renders the scalars and HParams dashboards in headless Chromium', async function () {
    if (!existsSync(CHROMIUM)) skipOrFail(this, { missing: `${CHROMIUM} is not installed`, fix: 'apt-get install -y chromium (as root)' });
    const profile = await mkdtemp(join(tmpdir(), 'poke-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(`${url}/?darkMode=false#scalars&tagFilter=loss`);
      await page.getByText('val_loss').first().waitFor();
      await page.getByText('tag: loss').first().waitFor();
      await page.waitForLoadState('networkidle');
      const shots = [['scalars', join(dir, 'tensorboard-scalars.png')]] as Array<[string, string]>;
      await page.screenshot({ path: shots[0]![1] });
      await page.goto(`${url}/?darkMode=false#hparams`);
      await page.getByText('train.learningRate').first().waitFor();
      await page.getByText('0.003').first().waitFor();
      await page.waitForLoadState('networkidle');
      shots.push(['hparams', join(dir, 'tensorboard-hparams.png')]);
      await page.screenshot({ path: shots[1]![1] });
      if (process.env.POKE_UPDATE_SCREENSHOT === '1') {
        for (const [name, path] of shots) await copyFile(path, join(REPO_ROOT, 'docs', 'images', `tensorboard-${name}.png`));
      }
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
