import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import wandb, { readSpool } from '@poke/plugin-wandb';
import { poke, startPoke, FAST as CLI_FAST } from '../../cli/test/helpers.js';
import { FakeWandbServer } from './fixtures/wandb-server.js';
import { API_KEY, collectRecords, filesContaining, historyRows, readJson, recordingLogger, recordRows, runFileOf, tempDir, trainer, withEnv } from './helpers.js';

const FAST = { flushInterval: 0.05, maxBackoff: 0.5, requestTimeout: 5, finishTimeout: 1 } as const;

describe('plugin-wandb with the poke binary', function () {
  let server: FakeWandbServer;

  beforeEach(async () => {
    server = await FakeWandbServer.create({ apiKey: API_KEY });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('keeps training when the server goes down mid-run (one warning), and `poke wandb sync` delivers the rest exactly once, twice over', async function () {
    this.timeout(180_000);
    const dir = await tempDir('wandb-outage');
    const runDir = join(dir, 'runs', 'o1');
    const logger = recordingLogger();
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, { runName: 'o1', train: { epochs: 3 } }, [wandb({ project: 'outage', ...FAST })], { logger });
      const records = collectRecords(t);
      t.hooks.afterStep.tapPromise('test:outage', async ({ globalStep }) => {
        if (globalStep !== 5) return;
        // the run and some history are on the server before it goes away
        while (!server.runs.size || server.onlyRun().history.length === 0) await delay(10);
        await server.stop();
      });
      expect((await t.run()).status).to.equal('completed');

      const warnings = logger.warnings();
      expect(warnings.filter((w) => w.includes('cannot reach'))).to.have.length(1);
      expect(warnings.filter((w) => w.includes('were not delivered'))).to.have.length(1);
      expect(warnings.join('\n')).to.include(`poke wandb sync ${runDir}`);
      const spooled = (await readSpool(join(runDir, 'wandb', 'offline.jsonl'), 0, Number.MAX_SAFE_INTEGER)).flatMap(({ entry }) => (entry.t === 'history' ? [entry.step] : []));
      expect(spooled).to.deep.equal(records.map((r) => r.step));
      const run = server.onlyRun();
      expect(run.history.length).to.be.greaterThan(0).and.lessThan(records.length);
      expect(run.exitcode).to.equal(undefined);

      await server.start();
      const sync = await poke(['wandb', 'sync', 'runs/o1', '--json'], dir, { WANDB_API_KEY: API_KEY });
      expect(sync.code, sync.stderr).to.equal(0);
      const report = JSON.parse(sync.stdout);
      expect(report).to.include({ runId: (await runFileOf(dir, 'o1')).id, pending: 0 });
      expect(report.delivered.rows).to.be.greaterThan(0);
      expect(server.runs.size).to.equal(1);
      expect(run.problems).to.deep.equal([]);
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
      expect(run.exitcode).to.equal(0);
      expect(run.summary!._step).to.equal(records.at(-1)!.step);
      const requests = server.requests.length;

      const again = await poke(['wandb', 'sync', 'runs/o1', '--json'], dir, { WANDB_API_KEY: API_KEY });
      expect(again.code, again.stderr).to.equal(0);
      expect(JSON.parse(again.stdout).delivered).to.deep.equal({ rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0, events: 0, logs: 0, files: 0 });
      expect(server.requests.length).to.equal(requests);
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
      expect(sync.stderr + again.stderr + sync.stdout).to.not.include(API_KEY);
    });
  });

  it('`poke wandb sync` while the server is away exits 1 and keeps everything; without a key it is a user error', async function () {
    this.timeout(120_000);
    const dir = await tempDir('wandb-away');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: 'offline' }, async () => {
      const t = await trainer(dir, { runName: 'a1' }, [wandb({ ...FAST })]);
      expect((await t.run()).status).to.equal('completed');
    });
    await server.stop();
    const away = await poke(['wandb', 'sync', 'runs/a1', '--timeout', '1'], dir, { WANDB_API_KEY: API_KEY });
    expect(away.code).to.equal(1);
    expect(away.stdout).to.match(/entries still pending/);
    expect(away.stderr).to.match(/cannot reach/);
    const home = await tempDir('wandb-emptyhome');
    const nokey = await poke(['wandb', 'sync', 'runs/a1'], dir, { WANDB_API_KEY: '', HOME: home });
    expect(nokey.code).to.equal(2);
    expect(nokey.stderr).to.match(/no W&B API key/);
    expect(await readJson(join(dir, 'runs', 'a1', 'wandb', 'state.json')).catch(() => ({ offset: 0 }))).to.include({ offset: 0 });
  });

  it('SIGINT during `poke train` with the plugin still ends with exit code 130, and W&B gets exit code 255', async function () {
    this.timeout(180_000);
    const dir = await tempDir('wandb-sigint');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: [['wandb', { project: 'sig', flushInterval: 0.05, finishTimeout: 5 }]] }));
    const running = startPoke(['train', ...CLI_FAST, '--set', 'train.epochs=500', '-n', 'int'], dir, {
      WANDB_BASE_URL: server.url,
      WANDB_API_KEY: API_KEY,
      WANDB_MODE: '',
    });
    await running.waitFor(/^epoch 2\/500/m);
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code, result.stderr).to.equal(130);
    expect(result.stderr).to.include('SIGINT: stopping after the current step');
    expect((await readJson(join(dir, 'runs', 'int', 'run.json'))).status).to.equal('interrupted');
    const run = server.onlyRun();
    expect(run.name).to.equal((await runFileOf(dir, 'int')).id);
    expect(run.exitcode).to.equal(255);
    expect(run.summary!['poke/status']).to.equal('interrupted');
    expect(run.history.length).to.be.greaterThan(0);
    expect(run.problems).to.deep.equal([]);
    expect(result.stderr + result.stdout).to.not.include(API_KEY);
    expect(await filesContaining(join(dir, 'runs'), API_KEY)).to.deep.equal([]);
  });
});
