import { expect } from 'chai';
import { mkdir, writeFile, readFile, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';
import checkpoint from '@poke/plugin-checkpoint';
import csv from '@poke/plugin-csv';
import compare, { compareRuns, compareRunsWithSeries, renderPlot, renderHtml } from '@poke/plugin-compare';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';

/** A run folder written by hand: run.json and a metrics.csv, for edge cases real runs do not produce. */
async function fakeRun(runs: string, name: string, opts: { status?: string; csv?: string; manifest?: string } = {}) {
  const dir = join(runs, name);
  await mkdir(join(dir, 'checkpoints'), { recursive: true });
  await writeFile(join(dir, 'run.json'), JSON.stringify({ id: name, name, status: opts.status ?? 'completed', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:01:30.000Z' }));
  if (opts.csv !== undefined) await writeFile(join(dir, 'metrics.csv'), opts.csv);
  if (opts.manifest !== undefined) await writeFile(join(dir, 'checkpoints', 'checkpoints.json'), opts.manifest);
  return dir;
}

const csvWith = (rows: Array<[number, number | '']>) => `step,epoch,timestamp,val_accuracy\n${rows.map(([s, v]) => `${s},0,t,${v}`).join('\n')}\n`;

describe('plugin-compare', function () {
  this.timeout(120_000);
  let runs: string;

  before(async () => {
    const dir = await tempDir('compare');
    runs = join(dir, 'runs');
    // Three real runs of different capacity: more epochs and width rank higher.
    for (const [i, width] of [[1, 8], [2, 32], [3, 16]] as const) {
      const trainer = await makeTrainer(smallConfig({ runName: `real${i}`, seed: i, model: { hiddenSizes: [width] }, train: { epochs: 1 + i } }), dir, { plugins: [checkpoint(), csv()] });
      await trainer.run();
    }
  });

  it('ranks real runs by the best checkpoint of the monitored metric, reading no weights', async () => {
    const rows = await compareRuns([runs]);
    expect(rows.map((r) => r.rank)).to.deep.equal([1, 2, 3]);
    const values = rows.map((r) => r.value!);
    expect(values).to.deep.equal([...values].sort((a, b) => a - b));
    for (const r of rows) {
      expect(r.valueSource).to.equal('best-checkpoint');
      expect(r.bestCheckpoint).to.match(/^epoch\d{4}-step\d{8}$/);
      expect(r.status).to.equal('completed');
      expect(r.parameters).to.be.greaterThan(0);
      expect(r.valLoss).to.equal(r.value);
    }
    const byAcc = await compareRuns([runs], { metric: 'val_accuracy' });
    expect(byAcc[0]!.mode).to.equal('max');
    expect(byAcc.map((r) => r.value!)).to.deep.equal(byAcc.map((r) => r.value!).sort((a, b) => b - a));
    expect(byAcc[0]!.valueSource).to.equal('metrics.csv');
  });

  it('treats 0.0 as a value and lists runs without the metric last, with a reason, under both modes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'poke-compare-'));
    await fakeRun(dir, 'zero', { csv: csvWith([[10, 0.5], [20, 0]]) });
    await fakeRun(dir, 'half', { csv: csvWith([[10, 0.5]]) });
    await fakeRun(dir, 'empty-cells', { csv: csvWith([[10, ''], [20, '']]) });
    await fakeRun(dir, 'no-csv');
    await fakeRun(dir, 'bad-manifest', { csv: 'step,epoch,timestamp,loss\n1,0,t,1\n', manifest: '{ not json' });
    await fakeRun(dir, 'busy', { status: 'running' });
    await mkdir(join(dir, 'not-a-run'));
    for (const mode of ['min', 'max'] as const) {
      const rows = await compareRuns([dir], { metric: 'val_accuracy', mode });
      const valued = rows.filter((r) => r.value !== null).map((r) => [r.name, r.value]);
      // max: both reach 0.5; a tie keeps name order.
      expect(valued).to.deep.equal(mode === 'min' ? [['zero', 0], ['half', 0.5]] : [['half', 0.5], ['zero', 0.5]]);
      const missing = rows.slice(valued.length);
      expect(missing.every((r) => r.rank === null && r.value === null)).to.equal(true);
      const reasons = Object.fromEntries(missing.map((r) => [r.name, r.reason]));
      expect(reasons['empty-cells']).to.equal('val_accuracy was never logged');
      expect(reasons['no-csv']).to.equal('no checkpoints');
      expect(reasons['bad-manifest']).to.match(/^unreadable manifest: /);
      expect(reasons['busy']).to.equal('no checkpoints');
      expect(missing.find((r) => r.name === 'busy')!.status).to.equal('crashed');
    }
  });

  it('a run that is still running says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'poke-compare-'));
    const run = await fakeRun(dir, 'live', { status: 'running', csv: 'step,epoch,timestamp,loss\n1,0,t,1\n' });
    await writeFile(join(run, 'checkpoints', 'checkpoints.json'), JSON.stringify({ format: 'poke-checkpoints', version: 1, monitor: { name: 'val_loss', mode: 'min' }, entries: [], best: null, latest: null }));
    await writeFile(join(run, '.lock'), JSON.stringify({ pid: process.pid, hostname: 'h', startedAt: 't' }));
    const [row] = await compareRuns([run]);
    expect(row!.status).to.equal('running');
    expect(row!.reason).to.equal('still running');
  });

  it('--plot draws one line per run; --json prints typed rows', async () => {
    const data = await compareRunsWithSeries([runs], { metric: 'val_loss' });
    const plot = renderPlot(data, 'val_loss');
    for (const name of ['real1', 'real2', 'real3']) expect(plot).to.include(name);
    expect(plot.split('\n').filter((l) => /[┼┤]/.test(l)).length).to.equal(15);
    const out = await poke(['compare', runs, '--json'], runs);
    expect(out.code, out.stderr).to.equal(0);
    const rows = JSON.parse(out.stdout);
    expect(rows).to.have.length(3);
    expect(Object.keys(rows[0]).sort()).to.include.members(['name', 'rank', 'value', 'bestCheckpoint', 'epoch', 'step', 'trainLoss', 'valLoss', 'valAccuracy', 'parameters', 'wallSeconds', 'status', 'reason']);
    const table = await poke(['compare', runs, '--plot'], runs);
    expect(table.stdout.split('\n')[1]).to.match(/^#\s+run\s+best checkpoint\s+epoch\s+step\s+train loss\s+val loss\s+val acc\s+params\s+wall\s+status$/);
    expect(table.stdout).to.include('val_loss over steps');
    const bad = await poke(['compare', runs, '--mode', 'up'], runs);
    expect(bad.code).to.equal(2);
  });

  it('writes a self-contained HTML report whose charts render in headless Chromium with one series per run', async function () {
    const chromiumPath = '/usr/bin/chromium';
    if (!existsSync(chromiumPath)) {
      if (process.env.POKE_SKIP_BROWSER === '1') this.skip();
      throw new Error(`${chromiumPath} is missing: .ci/run installs Debian's chromium (set POKE_SKIP_BROWSER=1 to skip on purpose)`);
    }
    const file = join(runs, '..', 'report.html');
    const out = await poke(['compare', runs, '--html', file], runs);
    expect(out.code, out.stderr).to.equal(0);
    const html = await readFile(file, 'utf8');
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=/);
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      const charts = await page.$$eval('.chart', (els) => els.map((e) => ({ metric: (e as HTMLElement).dataset.metric, series: Number((e as HTMLElement).dataset.series), canvas: e.querySelectorAll('canvas').length })));
      expect(charts.map((c) => c.metric)).to.include.members(['val_loss', 'val_accuracy', 'train_loss', 'loss']);
      for (const c of charts) {
        expect(c.series, c.metric).to.equal(3);
        expect(c.canvas, c.metric).to.be.greaterThan(0);
      }
      expect(await page.$$eval('#leaderboard tbody tr', (rows) => rows.length)).to.equal(3);
      expect(requests).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it('escapes hostile run names in the HTML report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'poke-compare-'));
    await fakeRun(dir, '<img src=x onerror=alert(1)>', { csv: csvWith([[1, 0.5]]) });
    const html = renderHtml(await compareRunsWithSeries([dir], { metric: 'val_accuracy' }));
    expect(html).to.not.include('<img src=x');
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('as a plugin, says at done where the run ranks among its siblings', async () => {
    const lines: string[] = [];
    const trainer = await makeTrainer(smallConfig({ runName: 'late', seed: 9, train: { epochs: 1 } }), join(runs, '..'), {
      plugins: [checkpoint(), csv(), compare()],
      logger: { info: (m) => void lines.push(m), warn: (m) => void lines.push(m) },
    });
    await trainer.run();
    const line = lines.find((l) => l.startsWith('compare:'));
    expect(line).to.match(/^compare: this run ranks \d of 4 by val_loss \(min\) with [\d.]+; /);
  });
});
