import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import checkpoint from '@poke/plugin-checkpoint';
import csv from '@poke/plugin-csv';
import mlflow, { MlflowClient, Delivery, Spool } from '@poke/plugin-mlflow';
import type { PokePlugin } from '@poke/core';
import { MlflowServer } from './server.js';
import {
  collectRecords, expectedParams, historyByStep, metricKeys, readJson, recordingLogger, recordsByStep, runFileOf, sorted, tempDir, trainer,
} from './helpers.js';

const FAST = { flushInterval: 0.05, maxBackoff: 0.5 } as const;

describe('plugin-mlflow against a real MLflow server', function () {
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

  it('logs params equal to the config, every step once as emitted (and as in metrics.csv), FINISHED, tags, and the best checkpoint as artifacts', async () => {
    const dir = await tempDir('mlflow');
    const logger = recordingLogger();
    const t = await trainer(dir, { runName: 'r1' }, [
      checkpoint(),
      csv(),
      mlflow({ trackingUri: server.url, experiment: 'complete', logCheckpoints: 'best', tags: { team: 'poke' }, ...FAST }),
    ], { logger });
    const records = collectRecords(t);
    await t.run();
    expect(logger.warnings()).to.deep.equal([]);
    const runDir = join(dir, 'runs', 'r1');
    const { runId, experimentId } = await runFileOf(dir, 'r1');
    const run = await client.getRun(runId);
    expect(run.info.status).to.equal('FINISHED');
    expect(run.info.experiment_id).to.equal(experimentId);
    expect(Number(run.info.end_time)).to.be.greaterThan(0);

    // params: the resolved config as the run folder's config.json has it (secrets redacted)
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    expect(params).to.deep.equal(expectedParams(await readJson(join(runDir, 'config.json'))));
    expect(params['train.epochs']).to.equal('2');
    expect(params['model.hiddenSizes']).to.equal('[16]');

    const tags = Object.fromEntries((run.data.tags ?? []).map((p) => [p.key, p.value]));
    expect(tags).to.include({ 'mlflow.runName': 'r1', 'mlflow.source.name': 'poke', team: 'poke', 'poke.run_name': 'r1' });
    const manifest = await readJson(join(runDir, 'checkpoints', 'checkpoints.json'));
    expect(tags['poke.best_checkpoint']).to.equal(manifest.best);

    // metrics: per step exactly what the log hook emitted, each step once
    const history = await historyByStep(client, runId, metricKeys(records));
    expect(records.length).to.be.greaterThan(4);
    expect(sorted(history)).to.deep.equal(sorted(recordsByStep(records)));

    // and what metrics.csv holds, parsed by a standard CSV reader
    const rows = parse(await readFile(join(runDir, 'metrics.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const fromCsv = new Map(
      rows.map((row) => [
        Number(row.step),
        Object.fromEntries(Object.entries(row).filter(([k, v]) => !['step', 'epoch', 'timestamp'].includes(k) && v !== '').map(([k, v]) => [k, Number(v)])),
      ]),
    );
    expect(sorted(history)).to.deep.equal(sorted(fromCsv));

    // the best checkpoint: listed, and each file downloads with identical bytes
    const best = manifest.best as string;
    const listed = await client.listArtifacts(runId, `checkpoints/${best}`);
    const files = (await readdir(join(runDir, 'checkpoints', best))).sort();
    expect(listed.map((f) => f.path).sort()).to.deep.equal(files.map((f) => `checkpoints/${best}/${f}`));
    for (const file of files) {
      const downloaded = await client.downloadArtifact(run.info.artifact_uri, `checkpoints/${best}/${file}`);
      expect(Buffer.from(downloaded).equals(await readFile(join(runDir, 'checkpoints', best, file))), file).to.equal(true);
    }
  });

  it('marks an interrupted run KILLED and resumes it into the same MLflow run, every step once; a resume from an older checkpoint sends nothing twice', async () => {
    const dir = await tempDir('mlflow-resume');
    const plugins = (): PokePlugin[] => [checkpoint(), mlflow({ trackingUri: server.url, experiment: 'resume', ...FAST })];
    const first = await trainer(dir, { runName: 'r2' }, plugins());
    const firstRecords = collectRecords(first);
    first.hooks.afterStep.tap('test:stop', ({ globalStep }) => {
      if (globalStep === 7) first.stop('test');
    });
    expect((await first.run()).status).to.equal('interrupted');
    const { runId } = await runFileOf(dir, 'r2');
    expect((await client.getRun(runId)).info.status).to.equal('KILLED');

    const logger = recordingLogger();
    const second = await trainer(dir, { runName: 'r2' }, plugins(), { resume: 'latest', logger });
    const secondRecords = collectRecords(second);
    expect((await second.run()).status).to.equal('completed');
    expect((await runFileOf(dir, 'r2')).runId).to.equal(runId);
    const run = await client.getRun(runId);
    expect(run.info.status).to.equal('FINISHED');
    const emitted = [...firstRecords.filter((r) => r.step <= secondRecords[0]!.step - 1), ...secondRecords];
    expect(new Set(emitted.map((r) => r.step)).size).to.equal(emitted.length);
    const keys = metricKeys(emitted);
    const history = await historyByStep(client, runId, keys);
    expect(sorted(history)).to.deep.equal(sorted(recordsByStep(emitted)));

    // From the end of epoch 1 again: the resumed run emits steps MLflow already has; none is sent twice.
    const manifest = await readJson(join(dir, 'runs', 'r2', 'checkpoints', 'checkpoints.json'));
    const early = manifest.entries.find((e: { reason: string }) => e.reason === 'validation').id as string;
    const third = await trainer(dir, { runName: 'r2' }, plugins(), { resume: early });
    const thirdRecords = collectRecords(third);
    await third.run();
    expect(thirdRecords.length).to.be.greaterThan(0);
    expect(thirdRecords.every((r) => history.has(r.step))).to.equal(true);
    expect(sorted(await historyByStep(client, runId, keys))).to.deep.equal(sorted(history));
    expect((await client.getRun(runId)).info.status).to.equal('FINISHED');
  });

  it('marks a run that failed (a plugin threw) FAILED', async () => {
    const dir = await tempDir('mlflow-failed');
    const boom: PokePlugin = {
      name: 'test:boom',
      apply: (t) => t.hooks.afterStep.tap('test:boom', ({ globalStep }) => {
        if (globalStep === 4) throw new Error('boom');
      }),
    };
    const t = await trainer(dir, { runName: 'r3' }, [mlflow({ trackingUri: server.url, experiment: 'failed', ...FAST }), boom]);
    const records = collectRecords(t);
    let error: unknown;
    await t.run().catch((err: unknown) => (error = err));
    expect((error as Error).message).to.include('boom');
    const { runId } = await runFileOf(dir, 'r3');
    expect((await client.getRun(runId)).info.status).to.equal('FAILED');
    expect(sorted(await historyByStep(client, runId, metricKeys(records)))).to.deep.equal(sorted(recordsByStep(records)));
  });
  it('keeps every request within MLflow limits (1000 metrics, 100 params, 100 tags) and loses nothing', async () => {
    const dir = join(await tempDir('mlflow-limits'), 'mlflow');
    const spool = new Spool(dir);
    const many = (n: number, f: (i: number) => [string, string | number]) => Object.fromEntries(Array.from({ length: n }, (_, i) => f(i)));
    spool.append({ t: 'params', params: many(250, (i) => [`p${i}`, String(i)]) as Record<string, string> });
    spool.append({ t: 'tags', tags: many(150, (i) => [`t${i}`, `v${i}`]) as Record<string, string> });
    for (let step = 1; step <= 3; step++) spool.append({ t: 'metrics', step, ts: 1000 + step, m: many(700, (i) => [`m${i}`, step + i / 1024]) });
    spool.append({ t: 'metrics', step: 4, ts: 1004, m: many(1500, (i) => [`m${i}`, i]) });
    const logger = recordingLogger();
    const run = { version: 1 as const, trackingUri: server.url, experiment: 'limits', runName: 'limits', startTime: Date.now() };
    const delivery = await Delivery.open(dir, spool, run, logger, { flushIntervalMs: 0 });
    const result = await delivery.drain(120_000);
    spool.close();
    expect(logger.warnings()).to.deep.equal([]);
    expect(result.pendingEntries).to.equal(0);
    expect(delivery.stats).to.include({ records: 4, metrics: 3 * 700 + 1500, params: 250, tags: 150 });
    const got = await client.getRun(delivery.run.runId!);
    expect(got.data.params).to.have.length(250);
    expect((await client.getMetricHistory(delivery.run.runId!, 'm0')).map((m) => Number(m.step)).sort()).to.deep.equal([1, 2, 3, 4]);
    expect((await client.getMetricHistory(delivery.run.runId!, 'm1499')).map((m) => [Number(m.step), m.value])).to.deep.equal([[4, 1499]]);
  });
});
