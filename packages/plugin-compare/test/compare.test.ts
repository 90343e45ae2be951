import { expect } from 'chai';
import { mkdir, writeFile, readFile, rm, copyFile, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { validateWithSchema } from '@poke/core';
import checkpoint from '@poke/plugin-checkpoint';
import csv from '@poke/plugin-csv';
import compare, { compareRuns, compareRunsWithSeries, compareOutputSchema, renderPlot, renderHtml, renderTable, readEvals } from '@poke/plugin-compare';
import { makeTrainer, smallConfig, tempDir, REPO_ROOT } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';
import { skipOrFail } from '../../../test/requirements.js';
import { makeTempDir } from '../../../test/temp-dirs.js';

/** A run folder written by hand: run.json, and optionally metrics.csv and a manifest, for edge cases real runs do not produce. */
async function fakeRun(runs: string, name: string, opts: { status?: string; csv?: string; manifest?: string; runJson?: string } = {}) {
  const dir = join(runs, name);
  await mkdir(join(dir, 'checkpoints'), { recursive: true });
  const info = { id: name, name, status: opts.status ?? 'completed', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:01:30.000Z' };
  await writeFile(join(dir, 'run.json'), opts.runJson ?? JSON.stringify(info));
  if (opts.csv !== undefined) await writeFile(join(dir, 'metrics.csv'), opts.csv);
  if (opts.manifest !== undefined) await writeFile(join(dir, 'checkpoints', 'checkpoints.json'), opts.manifest);
  return dir;
}

const csvWith = (rows: Array<[number, number | '']>, column = 'val_accuracy') => `step,epoch,timestamp,${column}\n${rows.map(([s, v]) => `${s},0,t,${v}`).join('\n')}\n`;

const scratch = () => makeTempDir('poke-compare-');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('plugin-compare', function () {
  this.timeout(120_000);
  let root: string;
  let runs: string;

  before(async () => {
    root = await tempDir('compare');
    runs = join(root, 'runs');
    // Three real runs of different capacity (2 epochs of 9 steps on cpu, a record every step).
    for (const [i, width] of [[1, 4], [2, 32], [3, 12]] as const) {
      const config = smallConfig({ runName: `real${i}`, seed: i, model: { hiddenSizes: [width] }, train: { epochs: 2, logEvery: 1 } });
      const trainer = await makeTrainer(config, root, {
        plugins: [checkpoint(), csv()],
      });
      await trainer.run();
    }
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('ranking', () => {
    it('ranks real runs by the best checkpoint of the monitor (min), and by a metrics.csv column (max)', async () => {
      const rows = await compareRuns([runs]);
      expect(rows.map((r) => r.rank)).to.deep.equal([1, 2, 3]);
      const values = rows.map((r) => r.value!);
      expect(values).to.deep.equal([...values].sort((a, b) => a - b));
      for (const r of rows) {
        expect(r.mode).to.equal('min');
        expect(r.valueSource).to.equal('best-checkpoint');
        expect(r.bestCheckpoint).to.match(/^epoch\d{4}-step\d{8}$/);
        expect(r.valueStep).to.equal(r.step);
        expect(r.status).to.equal('completed');
        expect(r.valLoss).to.equal(r.value);
        expect(r.wallSeconds).to.be.at.least(0);
        expect(r.winRate).to.equal(null);
      }
      // Parameters from model.json's weight shapes: 12 features → width → 5 actions, with biases.
      const params = Object.fromEntries(rows.map((r) => [r.name, r.parameters]));
      expect(params).to.deep.equal({ real1: 12 * 4 + 4 + 4 * 5 + 5, real2: 12 * 32 + 32 + 32 * 5 + 5, real3: 12 * 12 + 12 + 12 * 5 + 5 });

      const byAcc = await compareRuns([runs], { metric: 'val_accuracy' });
      expect(byAcc[0]!.mode).to.equal('max');
      expect(byAcc[0]!.valueSource).to.equal('metrics.csv');
      expect(byAcc.map((r) => r.value!)).to.deep.equal(byAcc.map((r) => r.value!).sort((a, b) => b - a));
      // Any logged metric, either mode; --mode overrides the default.
      const lr = await compareRuns([runs], { metric: 'samples_per_sec', mode: 'max' });
      expect(lr.every((r) => r.rank !== null && r.valueSource === 'metrics.csv')).to.equal(true);
      const worstFirst = await compareRuns([runs], { metric: 'val_loss', mode: 'max' });
      expect(worstFirst[0]!.valueSource).to.equal('metrics.csv');
      expect(worstFirst.map((r) => r.name)).to.not.deep.equal(rows.map((r) => r.name));
    });

    it('treats 0.0 as a value, and lists runs without the metric last with a reason under both modes', async () => {
      const dir = await scratch();
      await fakeRun(dir, 'zero', { csv: csvWith([[10, 0.5], [20, 0]]) });
      await fakeRun(dir, 'only-zero', { csv: csvWith([[10, 0]]) });
      await fakeRun(dir, 'half', { csv: csvWith([[10, 0.5]]) });
      await fakeRun(dir, 'empty-cells', { csv: csvWith([[10, ''], [20, '']]) });
      await fakeRun(dir, 'no-csv');
      await fakeRun(dir, 'bad-manifest', { csv: 'step,epoch,timestamp,loss\n1,0,t,1\n', manifest: '{ not json' });
      await fakeRun(dir, 'busy', { status: 'running' }); // no lock: the process is gone
      await fakeRun(dir, 'garbage-run-json', { runJson: '\u0000garbage' });
      for (const mode of ['min', 'max'] as const) {
        const rows = await compareRuns([dir], { metric: 'val_accuracy', mode });
        const valued = rows.filter((r) => r.value !== null).map((r) => [r.name, r.value]);
        expect(valued).to.deep.equal(
          mode === 'min'
            ? [['only-zero', 0], ['zero', 0], ['half', 0.5]]
            : [['half', 0.5], ['zero', 0.5], ['only-zero', 0]], // a tie keeps name order
        );
        expect(rows.slice(0, valued.length).map((r) => r.rank)).to.deep.equal([1, 2, 3]);
        const missing = rows.slice(valued.length);
        expect(missing.map((r) => r.name)).to.deep.equal(['bad-manifest', 'busy', 'empty-cells', 'garbage-run-json', 'no-csv']);
        expect(missing.every((r) => r.rank === null && r.value === null && r.valueSource === null)).to.equal(true);
        const reasons = Object.fromEntries(missing.map((r) => [r.name, r.reason]));
        expect(reasons['empty-cells']).to.equal('val_accuracy was never logged');
        expect(reasons['no-csv']).to.equal('no checkpoints');
        expect(reasons['bad-manifest']).to.match(/^unreadable manifest: .*not valid JSON/);
        expect(reasons['busy']).to.equal('no checkpoints');
        expect(reasons['garbage-run-json']).to.equal('not a poke run (no readable run.json)');
        expect(missing.find((r) => r.name === 'busy')!.status).to.equal('crashed');
      }
      const table = renderTable(await compareRuns([dir], { metric: 'val_accuracy' }));
      expect(table).to.match(/only-zero .* 0\.0000 .* completed/);
      expect(table).to.match(/bad-manifest .* completed: unreadable manifest: /);
    });

    it('says "still running" for a run whose lock is held by a live process (or by another machine)', async () => {
      const dir = await scratch();
      const live = await fakeRun(dir, 'live', { status: 'running', csv: 'step,epoch,timestamp,loss\n1,0,t,1\n' });
      const manifest = { format: 'poke-checkpoints', version: 1, monitor: { name: 'val_loss', mode: 'min' }, entries: [], best: null, latest: null };
      await writeFile(join(live, 'checkpoints', 'checkpoints.json'), JSON.stringify(manifest));
      await writeFile(join(live, '.lock'), JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname(), startedAt: 't' }));
      const remote = await fakeRun(dir, 'remote', { status: 'running' });
      await writeFile(join(remote, '.lock'), JSON.stringify({ pid: 999_999_999, hostname: 'another-machine', startedAt: 't' }));
      const rows = await compareRuns([dir]);
      for (const row of rows) {
        expect(row.status, row.name).to.equal('running');
        expect(row.reason, row.name).to.equal('still running');
      }
    });

    it('expands folders that hold runs, keeps run folders as given, and lists each run once', async () => {
      const dir = await scratch();
      await fakeRun(join(dir, 'a'), 'r1', { csv: csvWith([[1, 0.1]]) });
      await fakeRun(join(dir, 'a'), 'r2', { csv: csvWith([[1, 0.2]]) });
      await mkdir(join(dir, 'a', '.hidden'));
      await mkdir(join(dir, 'a', 'not-a-run'));
      await fakeRun(join(dir, 'b'), 'r3', { csv: csvWith([[1, 0.3]]) });
      await mkdir(join(dir, 'empty'));
      const rows = await compareRuns([join(dir, 'a'), join(dir, 'a', 'r1'), join(dir, 'b', 'r3'), join(dir, 'empty')], { metric: 'val_accuracy' });
      expect(rows.map((r) => [r.name, r.rank])).to.deep.equal([['r3', 1], ['r2', 2], ['r1', 3], ['empty', null]]);
      expect(rows[3]!.reason).to.match(/^not a poke run/);
    });
  });

  it("wall time is the trainer's activeSeconds when run.json has it, else createdAt → updatedAt", async () => {
    const dir = await scratch();
    const info = (extra: object) => JSON.stringify({ id: 'x', name: 'x', status: 'completed', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z', ...extra });
    await fakeRun(dir, 'active', { runJson: info({ activeSeconds: 95.5 }) });
    await fakeRun(dir, 'old', { runJson: info({}) });
    await fakeRun(dir, 'odd', { runJson: info({ activeSeconds: -3 }) });
    const rows = await compareRuns([dir]);
    expect(Object.fromEntries(rows.map((r) => [r.name, r.wallSeconds]))).to.deep.equal({ active: 95.5, old: 86_400, odd: 86_400 });
    expect(renderTable(rows)).to.match(/\bactive\b.*1m36s/);
  });

  describe('eval files', () => {
    it('reads eval*.json leniently; a win-rate column appears only when some run has one; --metric win_rate ranks by it', async () => {
      const dir = await scratch();
      const a = await fakeRun(dir, 'a', { csv: csvWith([[1, 0.5]]) });
      const b = await fakeRun(dir, 'b', { csv: csvWith([[1, 0.6]]) });
      await fakeRun(dir, 'c', { csv: csvWith([[1, 0.7]]) });
      expect(renderTable(await compareRuns([dir], { metric: 'val_accuracy' }))).to.not.include('win rate');

      await writeFile(join(a, 'eval-random.json'), JSON.stringify({ wins: 30, games: 40, timestamp: '2026-01-02T00:00:00Z' }));
      await writeFile(join(a, 'eval-heuristic.json'), JSON.stringify({ winRate: 0, opponent: 'max-damage', timestamp: '2026-01-03T00:00:00Z' }));
      await writeFile(join(b, 'eval.json'), JSON.stringify({ wins: 1, losses: 2, ties: 1 }));
      await writeFile(join(b, 'eval-broken.json'), '{"wins": 3, "gam');
      await writeFile(join(b, 'eval-odd.json'), JSON.stringify({ winRate: 7 }));
      const evals = await readEvals(a);
      expect(evals.map((e) => [e.file, e.opponent, e.games, e.winRate])).to.deep.equal([
        ['eval-random.json', 'random', 40, 0.75],
        ['eval-heuristic.json', 'max-damage', null, 0],
      ]);
      const rows = await compareRuns([dir], { metric: 'win_rate' });
      expect(rows[0]!.mode).to.equal('max');
      // The newest file counts: a's 0.0 is a value, ranked below b's 0.25; c has none.
      expect(rows.map((r) => [r.name, r.value, r.valueSource])).to.deep.equal([['b', 0.25, 'eval'], ['a', 0, 'eval'], ['c', null, null]]);
      expect(rows[1]!.evals).to.have.length(2);
      const table = renderTable(rows);
      expect(table.split('\n')[1]).to.match(/val acc\s+win rate\s+params/);
      expect(table).to.match(/\bb\b.*25\.0%/);
      expect(table).to.match(/\ba\b.*0\.0%/);
    });

    it("reads poke eval's eval.json, one record per opponent, with its interval; the newest shows with its opponent", async () => {
      const dir = await scratch();
      const a = await fakeRun(dir, 'a', { csv: csvWith([[1, 0.5]]) });
      const record = (vs: string, wins: number, timestamp: string) => ({ vs, format: 'gen9randombattle', battles: 20, wins, losses: 20 - wins, ties: 0, winRate: wins / 20, ci95: [0.1, 0.9], timestamp });
      await writeFile(join(a, 'eval.json'), JSON.stringify({ random: record('random', 19, '2026-01-02T00:00:00Z'), expert: record('expert', 5, '2026-01-03T00:00:00Z'), note: 'x', broken: { wins: 'many' } }));
      const evals = await readEvals(a);
      expect(evals.map((e) => [e.file, e.opponent, e.games, e.winRate, e.ci95])).to.deep.equal([
        ['eval.json', 'random', 20, 0.95, [0.1, 0.9]],
        ['eval.json', 'expert', 20, 0.25, [0.1, 0.9]],
      ]);
      const rows = await compareRuns([dir], { metric: 'win_rate' });
      expect(rows[0]!.value).to.equal(0.25);
      expect(renderTable(rows)).to.match(/\ba\b.*25\.0% vs expert/);
    });

    it('--opponent ranks by win rates against one opponent only; a run without one goes last, saying how to get it', async () => {
      const dir = await scratch();
      const record = (vs: string, winRate: number, timestamp: string) => ({ vs, battles: 100, winRate, timestamp });
      const a = await fakeRun(dir, 'a', { csv: csvWith([[1, 0.5]]) });
      const b = await fakeRun(dir, 'b', { csv: csvWith([[1, 0.5]]) });
      const c = await fakeRun(dir, 'c', { csv: csvWith([[1, 0.5]]) });
      // Newest first would rank a (0.9 vs random) above b (0.4 vs expert): not a fair comparison.
      await writeFile(join(a, 'eval.json'), JSON.stringify({ expert: record('expert', 0.3, '2026-01-01T00:00:00Z'), random: record('random', 0.9, '2026-01-02T00:00:00Z') }));
      await writeFile(join(b, 'eval.json'), JSON.stringify({ expert: record('expert', 0.4, '2026-01-03T00:00:00Z') }));
      await writeFile(join(c, 'eval.json'), JSON.stringify({ random: record('random', 0.95, '2026-01-03T00:00:00Z') }));
      const any = await compareRuns([dir], { metric: 'win_rate' });
      expect(any.map((r) => [r.name, r.value, r.winRateVs])).to.deep.equal([['c', 0.95, 'random'], ['a', 0.9, 'random'], ['b', 0.4, 'expert']]);
      const expert = await compareRuns([dir], { metric: 'win_rate', opponent: 'expert' });
      expect(expert.map((r) => [r.name, r.value, r.winRateVs])).to.deep.equal([['b', 0.4, 'expert'], ['a', 0.3, 'expert'], ['c', null, null]]);
      // The command in the reason names the run folder so that it works when pasted here.
      const hint = /^no evaluation vs expert \(poke eval (\S+) --vs expert\)$/.exec(expert[2]!.reason!);
      expect(hint, expert[2]!.reason!).to.not.equal(null);
      expect(existsSync(join(resolve(hint![1]!), 'run.json'))).to.equal(true);
      // Ranked by another metric, the win-rate column follows the opponent too.
      const byLoss = await compareRuns([dir], { metric: 'val_loss', opponent: 'expert' });
      expect(renderTable(byLoss)).to.match(/\ba\b.*30\.0% vs expert/);
      // What --json prints matches the published schema.
      for (const rows of [any, expert, byLoss]) validateWithSchema(compareOutputSchema, JSON.parse(JSON.stringify(rows)), 'poke compare --json');
    });
  });

  describe('the poke binary', () => {
    it('--json prints rows that match the published schema', async () => {
      const out = await poke(['compare', 'runs', '--json'], root);
      expect(out.code, out.stderr).to.equal(0);
      const rows = JSON.parse(out.stdout) as unknown[];
      expect(rows).to.have.length(3);
      validateWithSchema(compareOutputSchema, rows, 'poke compare --json');
      const dir = await scratch();
      await fakeRun(dir, 'x', { manifest: '[]' });
      const edge = await poke(['compare', dir, '--json', '--metric', 'val_accuracy'], root);
      expect(edge.code, edge.stderr).to.equal(0);
      validateWithSchema(compareOutputSchema, JSON.parse(edge.stdout), 'poke compare --json');
    });

    it('shows only the config keys whose values differ between the runs; --all-params shows every key', async () => {
      // The three runs differ in seed and model.hiddenSizes and share everything else.
      const table = await poke(['compare', 'runs'], root);
      expect(table.code, table.stderr).to.equal(0);
      const header = table.stdout.split('\n')[1]!;
      expect(header).to.include('model.hiddenSizes').and.include('seed');
      expect(header).to.not.include('train.batchSize').and.not.include('runName');
      const real1 = table.stdout.split('\n').find((l) => /\sreal1\s/.test(l))!;
      expect(real1).to.match(/real1\s+\[4\]\s+1\s/);

      const rows = JSON.parse((await poke(['compare', 'runs', '--json'], root)).stdout) as Array<{ name: string; config: Record<string, string> }>;
      for (const row of rows) expect(Object.keys(row.config)).to.deep.equal(['model.hiddenSizes', 'seed']);
      expect(rows.find((r) => r.name === 'real2')!.config).to.deep.equal({ 'model.hiddenSizes': '[32]', seed: '2' });

      const all = JSON.parse((await poke(['compare', 'runs', '--json', '--all-params'], root)).stdout) as Array<{ config: Record<string, string> }>;
      expect(all[0]!.config).to.include({ 'train.batchSize': '64', 'data.source': 'synthetic' });
      expect(all[0]!.config).to.not.have.property('runName');

      const html = renderHtml(await compareRunsWithSeries([runs]));
      expect(html).to.include('>model.hiddenSizes</th>').and.include('>seed</th>');
    });

    it('prints the table best first, and --plot draws the metric with one legend entry per run', async () => {
      const out = await poke(['compare', join(runs, 'real1'), join(runs, 'real2'), join(runs, 'real3'), '--plot'], root);
      expect(out.code, out.stderr).to.equal(0);
      const lines = out.stdout.split('\n');
      expect(lines[0]).to.equal('ranked by val_loss (min, best first)');
      expect(lines[1]).to.match(/^#\s+run\s+model\.hiddenSizes\s+seed\s+best checkpoint\s+epoch\s+step\s+train loss\s+val loss\s+val acc\s+params\s+wall\s+status$/);
      const order = (await compareRuns([runs])).map((r) => r.name);
      expect(lines.slice(3, 6).map((l) => l.split(/\s+/)[1])).to.deep.equal(order);
      const plotStart = lines.findIndex((l) => l.startsWith('val_loss over steps'));
      expect(plotStart).to.be.greaterThan(5);
      const legend = lines.slice(plotStart).find((l) => l.startsWith('1. '))!;
      expect(legend).to.equal(order.map((name, i) => `${i + 1}. ${name}`).join('   '));
      // The chart itself: one text row per level, lines drawn with asciichart's box characters.
      expect(lines.slice(plotStart).filter((l) => /[┼┤]/.test(l))).to.have.length(15);
    });

    it('renderPlot draws one line per run: each run alone plots a different curve', async () => {
      const data = await compareRunsWithSeries([runs], { metric: 'loss' });
      const plot = renderPlot(data, 'loss');
      for (const r of data) expect(plot).to.include(r.row.name);
      const alone = data.map((r) => renderPlot([r], 'loss').split('\n').slice(1, -1).join('\n'));
      expect(new Set(alone).size).to.equal(3);
      expect(renderPlot(data, 'nope')).to.equal('no run has nope in its metrics.csv');
    });

    it('refuses a bad --mode and a missing folder as user mistakes (exit 2)', async () => {
      const bad = await poke(['compare', 'runs', '--mode', 'up'], root);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include('--mode must be min or max');
      const missing = await poke(['compare', 'nowhere'], root);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.include('nowhere is not a folder');
    });
  });

  describe('HTML report', () => {
    let context: BrowserContext | undefined;
    let profile: string;

    before(async function () {
      // Only root can install it; .ci/run does, and sets POKE_REQUIRE_ALL=1 so a missing one fails there.
      if (!existsSync(CHROMIUM)) skipOrFail(this, { missing: `${CHROMIUM} is not installed`, fix: 'apt-get install -y chromium (as root)' });
      profile = await mkdtemp(join(tmpdir(), 'poke-chromium-'));
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 900 } });
    });

    after(async () => {
      await context?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    /** Open a report offline; returns the page and every non-file request it made. */
    async function open(file: string) {
      const page = await context!.newPage();
      const requests: string[] = [];
      const dialogs: string[] = [];
      page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      return { page, requests, dialogs };
    }

    it('is one self-contained page whose charts render in headless Chromium with one series per run', async () => {
      const file = join(root, 'report.html');
      const out = await poke(['compare', 'runs', '--html', file], root);
      expect(out.code, out.stderr).to.equal(0);
      const html = await readFile(file, 'utf8');
      expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|url\(\s*['"]?https?:|@import/);
      const { page, requests } = await open(file);
      const charts = await page.$$eval('.chart', (els) =>
        els.map((e) => ({
          metric: (e as HTMLElement).dataset.metric,
          series: Number((e as HTMLElement).dataset.series),
          canvas: e.querySelectorAll('canvas').length,
          legend: [...e.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent),
        })),
      );
      expect(charts[0]!.metric).to.equal('val_loss');
      expect(charts.map((c) => c.metric)).to.include.members(['val_loss', 'val_accuracy', 'train_loss', 'loss', 'accuracy', 'lr']);
      const names = (await compareRuns([runs])).map((r) => r.name);
      for (const c of charts) {
        expect(c.series, c.metric).to.equal(3);
        expect(c.canvas, c.metric).to.be.greaterThan(0);
        expect(c.legend, c.metric).to.deep.equal(['step', ...names]);
      }
      expect(await page.$$eval('#leaderboard tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent))).to.deep.equal(names);
      expect(requests).to.deep.equal([]);
      // For docs/compare.md: POKE_UPDATE_SCREENSHOT=1 refreshes docs/images/compare-report.png.
      const shot = join(root, 'compare-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.POKE_UPDATE_SCREENSHOT === '1') await copyFile(shot, join(REPO_ROOT, 'docs', 'images', 'compare-report.png'));
      await page.close();
    });

    it('escapes hostile run and metric names (they come from disk)', async () => {
      const dir = await scratch();
      const evil = '<img src=x onerror="window.__pwned=1;alert(1)">';
      const metric = '</script><script>window.__pwned=2</script>';
      const column = `"${metric.replace(/"/g, '""')}"`;
      await fakeRun(dir, evil, { csv: `step,epoch,timestamp,${column}\n1,0,t,0.5\n2,0,t,0.4\n` });
      await fakeRun(dir, "quote'\"&amp;", { csv: `step,epoch,timestamp,${column}\n1,0,t,0.6\n2,0,t,0.3\n` });
      const data = await compareRunsWithSeries([dir], { metric });
      const html = renderHtml(data);
      expect(html).to.not.include('<img src=x');
      expect(html).to.include('&lt;img src=x onerror=&quot;window.__pwned=1;alert(1)&quot;&gt;');
      expect(html.match(/<\/script>/g)).to.have.length(2); // uPlot's and ours, nothing from disk
      const file = join(dir, 'report.html');
      await writeFile(file, html);
      const { page, dialogs } = await open(file);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
      expect(dialogs).to.deep.equal([]);
      expect(await page.$$('#leaderboard img')).to.have.length(0);
      const charts = await page.$$eval('.chart', (els) => els.map((e) => [(e as HTMLElement).dataset.metric, (e as HTMLElement).dataset.series]));
      expect(charts).to.deep.equal([[metric, '2']]);
      expect(await page.$$eval('#leaderboard tbody td:nth-child(2)', (tds) => tds.map((td) => td.textContent))).to.include(evil);
      await page.close();
    });
  });

  describe('as a plugin', () => {
    it('says at done where the run ranks among its siblings in the same runs folder', async () => {
      const lines: string[] = [];
      const trainer = await makeTrainer(smallConfig({ runName: 'late', seed: 9, train: { epochs: 1 } }), root, {
        plugins: [checkpoint(), csv(), compare()],
        logger: { info: (m) => void lines.push(m), warn: (m) => void lines.push(m) },
      });
      await trainer.run();
      const line = lines.find((l) => l.startsWith('compare:'));
      const rows = await compareRuns([runs]);
      const self = rows.find((r) => r.name === 'late')!;
      expect(rows).to.have.length(4);
      expect(line).to.match(new RegExp(`^compare: this run ranks ${self.rank} of 4 by val_loss \\(min\\) with ${self.value!.toFixed(4).replace('.', '\\.')}; (best|next): `));
    });

    it('says why when the run has nothing to rank', async () => {
      const lines: string[] = [];
      const trainer = await makeTrainer(smallConfig({ runName: 'no-acc', seed: 3, train: { epochs: 1 } }), root, {
        plugins: [csv(), compare({ metric: 'win_rate' })],
        logger: { info: (m) => void lines.push(m), warn: (m) => void lines.push(m) },
      });
      await trainer.run();
      expect(lines.find((l) => l.startsWith('compare:'))).to.equal("compare: this run has no win_rate to rank (not in its checkpoints, metrics.csv or eval*.json)");
    });
  });
});
