import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import checkpoint from '@poke/plugin-checkpoint';
import mlflow, { MlflowClient, readSpool } from '@poke/plugin-mlflow';
import { poke } from '../../cli/test/helpers.js';
import { MlflowServer, freePort } from './server.js';
import {
  collectRecords, historyByStep, metricKeys, readJson, recordingLogger, recordsByStep, runFileOf, sorted, tempDir, trainer,
} from './helpers.js';

const FAST = { flushInterval: 0.05, maxBackoff: 0.5, requestTimeout: 5, finishTimeout: 1 } as const;

async function spooledSteps(runDir: string): Promise<number[]> {
  const entries = await readSpool(join(runDir, 'mlflow', 'spool.jsonl'), 0, Number.MAX_SAFE_INTEGER);
  return entries.flatMap(({ entry }) => (entry.t === 'metrics' ? [entry.step] : []));
}

describe('plugin-mlflow when the server goes away', function () {
  let server: MlflowServer;
  let client: MlflowClient;

  before(async function () {
    this.timeout(240_000);
    server = await MlflowServer.create(this);
    client = new MlflowClient(server.url);
  });

  after(async function () {
    this.timeout(60_000);
    await server?.dispose();
  });

  it('keeps training when the server stops mid-run, spools every record with one warning, and `poke mlflow sync` delivers it all once', async function () {
    this.timeout(300_000);
    const dir = await tempDir('mlflow-outage');
    const runDir = join(dir, 'runs', 'o1');
    const logger = recordingLogger();
    const t = await trainer(dir, { runName: 'o1', train: { epochs: 3 } }, [
      checkpoint(),
      mlflow({ trackingUri: server.url, experiment: 'outage', logCheckpoints: 'best', ...FAST }),
    ], { logger });
    const records = collectRecords(t);
    t.hooks.afterStep.tapPromise('test:outage', async ({ globalStep }) => {
      if (globalStep !== 5) return;
      // the run exists on the server before it goes away
      while (!(await runFileOf(dir, 'o1').catch(() => ({}))).runId) await delay(20);
      await server.stop();
    });
    expect((await t.run()).status).to.equal('completed');

    const warnings = logger.warnings();
    expect(warnings.filter((w) => w.includes('cannot reach'))).to.have.length(1);
    expect(warnings.filter((w) => w.includes('were not delivered'))).to.have.length(1);
    expect(warnings.join('\n')).to.include('poke mlflow sync');
    expect(await spooledSteps(runDir)).to.deep.equal(records.map((r) => r.step));
    const delivered = await readJson(join(runDir, 'mlflow', 'delivered.json')).catch(() => ({ step: -1 }));
    expect(delivered.step).to.be.lessThan(records.at(-1)!.step);

    await server.start();
    const { runId } = await runFileOf(dir, 'o1');
    const sync = await poke(['mlflow', 'sync', 'runs/o1', '--json'], dir);
    expect(sync.code, sync.stderr).to.equal(0);
    const report = JSON.parse(sync.stdout);
    expect(report).to.include({ runId, pending: 0 });
    expect(report.delivered.records).to.be.greaterThan(0);

    const keys = metricKeys(records);
    const history = await historyByStep(client, runId, keys);
    expect(sorted(history)).to.deep.equal(sorted(recordsByStep(records)));
    const run = await client.getRun(runId);
    expect(run.info.status).to.equal('FINISHED');
    const manifest = await readJson(join(runDir, 'checkpoints', 'checkpoints.json'));
    const best = Object.fromEntries((run.data.tags ?? []).map((x) => [x.key, x.value]))['poke.best_checkpoint'];
    expect(best).to.equal(manifest.best);
    expect((await client.listArtifacts(runId, `checkpoints/${best}`)).length).to.be.greaterThan(0);

    // a second sync sends nothing
    const again = await poke(['mlflow', 'sync', 'runs/o1', '--json'], dir);
    expect(again.code, again.stderr).to.equal(0);
    const second = JSON.parse(again.stdout);
    expect(second.delivered).to.include({ records: 0, metrics: 0, params: 0, artifactFiles: 0 });
    expect(second.pending).to.equal(0);
    expect(sorted(await historyByStep(client, runId, keys))).to.deep.equal(sorted(history));
  });

  it('trains with no server at all; sync then creates the run with everything (and exits 1 while the server is still away)', async function () {
    this.timeout(300_000);
    const dir = await tempDir('mlflow-noserver');
    const runDir = join(dir, 'runs', 'n1');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const logger = recordingLogger();
    const t = await trainer(dir, { runName: 'n1' }, [mlflow({ trackingUri: closed, experiment: 'never', ...FAST })], { logger });
    const records = collectRecords(t);
    expect((await t.run()).status).to.equal('completed');
    expect(logger.warnings().filter((w) => w.includes('cannot reach'))).to.have.length(1);
    expect((await runFileOf(dir, 'n1')).runId).to.equal(undefined);
    expect(await spooledSteps(runDir)).to.deep.equal(records.map((r) => r.step));

    const away = await poke(['mlflow', 'sync', 'runs/n1', '--timeout', '1'], dir);
    expect(away.code).to.equal(1);
    expect(away.stdout).to.match(/entries still pending/);

    const sync = await poke(['mlflow', 'sync', 'runs/n1', '--tracking-uri', server.url, '--json'], dir);
    expect(sync.code, sync.stderr).to.equal(0);
    const report = JSON.parse(sync.stdout);
    expect(report.pending).to.equal(0);
    expect(report.delivered.records).to.equal(records.length);
    const run = await client.getRun(report.runId);
    expect(run.info.status).to.equal('FINISHED');
    expect(run.info.run_name).to.equal('n1');
    expect(sorted(await historyByStep(client, report.runId, metricKeys(records)))).to.deep.equal(sorted(recordsByStep(records)));
    expect(existsSync(join(runDir, 'mlflow', 'delivered.json'))).to.equal(true);
  });
});
