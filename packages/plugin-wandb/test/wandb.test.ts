import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import checkpoint from '@poke/plugin-checkpoint';
import csv from '@poke/plugin-csv';
import wandb, { readSpool, syncRun, resolveWandbOptions, parseNetrc, findApiKey, EXIT_CODES } from '@poke/plugin-wandb';
import type { MetricsRecord } from '@poke/core';
import { FakeWandbServer } from './fixtures/wandb-server.js';
import {
  API_KEY, collectRecords, filesContaining, historyRows, netrcHome, readJson, recordingLogger, recordRows, runFileOf, tempDir, trainer, withEnv,
} from './helpers.js';

const FAST = { flushInterval: 0.05, maxBackoff: 0.5, requestTimeout: 5, finishTimeout: 5 } as const;

async function spooledSteps(runDir: string): Promise<number[]> {
  const entries = await readSpool(join(runDir, 'wandb', 'offline.jsonl'), 0, Number.MAX_SAFE_INTEGER);
  return entries.flatMap(({ entry }) => (entry.t === 'history' ? [entry.step] : []));
}

function configValues(config: Record<string, { value: unknown }> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config ?? {}).map(([k, v]) => [k, v.value]));
}

function byStep(records: readonly MetricsRecord[]): MetricsRecord[] {
  const map = new Map<number, MetricsRecord>();
  for (const r of records) map.set(r.step, r);
  return [...map.values()].sort((a, b) => a.step - b.step);
}

describe('plugin-wandb against the W&B recording server', function () {
  let server: FakeWandbServer;

  beforeEach(async () => {
    server = await FakeWandbServer.create({ apiKey: API_KEY, defaultEntity: 'poke-user' });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('sends the redacted config, every record at its global step (= metrics.csv), best and final metrics in the summary, exit code 0; key from ~/.netrc never leaks', async function () {
    const dir = await tempDir('wandb-basic');
    const home = await netrcHome('127.0.0.1', API_KEY);
    const logger = recordingLogger();
    await withEnv({ HOME: home, WANDB_API_KEY: undefined, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, { runName: 'b1', train: { epochs: 3 } }, [
        csv(),
        wandb({ project: 'poke-test', name: 'first try', group: 'g1', tags: ['bc', 'small'], notes: 'a note', ...FAST }),
      ], { logger });
      const records = collectRecords(t);
      const summary = await t.run();
      expect(summary.status).to.equal('completed');

      const runFile = await runFileOf(dir, 'b1');
      expect(runFile.id).to.match(/^[a-z0-9]{8}$/);
      expect(runFile).to.include({ project: 'poke-test', entity: 'poke-user', baseUrl: server.url });
      const run = server.onlyRun();
      expect(run).to.include({ entity: 'poke-user', project: 'poke-test', name: runFile.id, displayName: 'first try', groupName: 'g1', notes: 'a note', exitcode: 0 });
      expect(run.tags).to.deep.equal(['bc', 'small']);
      expect(run.problems).to.deep.equal([]);

      // config: what config.json holds (secrets redacted)
      const onDisk = await readJson(join(dir, 'runs', 'b1', 'config.json'));
      const { _wandb, ...sent } = configValues(run.config);
      expect(sent).to.deep.equal(onDisk);
      // the SDK's key, whose `t` marks a run a client started (wandb.init(resume="must") needs it)
      expect(_wandb).to.have.property('t');

      // the files the SDK uploads at the end (but requirements.txt), and a system-metrics line
      expect([...run.files.keys()].sort()).to.deep.equal(['config.yaml', 'output.log', 'wandb-metadata.json', 'wandb-summary.json']);
      expect(run.events.length).to.be.greaterThan(0);

      // history: exactly the records, at the trainer's global step
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
      expect(run.history.map((r) => r._step)).to.deep.equal(records.map((r) => r.step));

      // and the same as metrics.csv, parsed by a standard CSV reader
      const rows: Array<Record<string, string>> = parse(await readFile(join(dir, 'runs', 'b1', 'metrics.csv'), 'utf8'), { columns: true });
      const fromCsv = rows.map((row) => {
        const metrics: Record<string, number> = {};
        for (const [k, v] of Object.entries(row)) if (!['step', 'epoch', 'timestamp'].includes(k) && v !== '') metrics[k] = Number(v);
        return { step: Number(row.step), metrics };
      });
      expect(historyRows(run.history)).to.deep.equal(fromCsv);

      // summary: final values and best ones
      const last = records.at(-1)!;
      for (const [k, v] of Object.entries(summary.finalMetrics)) expect(run.summary![k], k).to.equal(v);
      const valLosses = records.filter((r) => 'val_loss' in r.metrics);
      const bestLoss = valLosses.reduce((a, b) => (b.metrics.val_loss! < a.metrics.val_loss! ? b : a));
      expect(run.summary!['best/val_loss']).to.equal(bestLoss.metrics.val_loss);
      expect(run.summary!['best/val_loss_step']).to.equal(bestLoss.step);
      const bestAcc = Math.max(...valLosses.map((r) => r.metrics.val_accuracy!));
      expect(run.summary!['best/val_accuracy']).to.equal(bestAcc);
      expect(run.summary!._step).to.equal(last.step);
      expect(run.summary!['poke/status']).to.equal('completed');

      // HTTP Basic api:<key> on every API request, none on the uploads to storage URLs, and the key nowhere else
      const [uploads, api] = [server.requests.filter((r) => r.method === 'PUT'), server.requests.filter((r) => r.method !== 'PUT')];
      expect(api.every((r) => r.authorization === `Basic ${Buffer.from(`api:${API_KEY}`).toString('base64')}`)).to.equal(true);
      expect(uploads.map((r) => r.authorization)).to.deep.equal([undefined, undefined, undefined, undefined]);
      expect(await filesContaining(join(dir, 'runs'), API_KEY)).to.deep.equal([]);
      expect(logger.lines.join('\n')).to.not.include(API_KEY);
      expect(logger.warnings()).to.deep.equal([]);
    });
  });

  it('--resume continues the same W&B run: no step sent twice, none missing, steps always increasing', async function () {
    const dir = await tempDir('wandb-resume');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      // the first attempt stops mid-epoch 2; the only checkpoint is the end of epoch 1
      const first = await trainer(dir, { runName: 'r1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST })]);
      const firstRecords = collectRecords(first);
      first.hooks.afterStep.tap('test:stop', ({ epoch, batch }) => {
        if (epoch === 1 && batch === 4) first.stop('test');
      });
      expect((await first.run()).status).to.equal('interrupted');
      const { id } = await runFileOf(dir, 'r1');
      const run = server.onlyRun();
      expect(run.exitcode).to.equal(EXIT_CODES.interrupted);
      const sentBefore = run.history.length;

      const second = await trainer(dir, { runName: 'r1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST })], { resume: 'latest' });
      const secondRecords = collectRecords(second);
      expect((await second.run()).status).to.equal('completed');
      // the resumed run emitted steps the server already had
      expect(secondRecords[0]!.step).to.be.at.most(run.history[sentBefore - 1]!._step);

      expect((await runFileOf(dir, 'r1')).id).to.equal(id);
      expect(server.runs.size).to.equal(1);
      expect(run.upserts).to.equal(2);
      expect(run.problems).to.deep.equal([]);
      expect(run.exitcode).to.equal(0);
      const steps = run.history.map((r) => r._step);
      expect(new Set(steps).size).to.equal(steps.length);
      // steps the server had before the resume keep their first values (samples_per_sec differs between attempts)
      const lastSent = run.history[sentBefore - 1]!._step as number;
      expect(lastSent).to.equal(firstRecords.at(-1)!.step);
      expect(historyRows(run.history)).to.deep.equal(recordRows(byStep([...firstRecords, ...secondRecords.filter((r) => r.step > lastSent)])));
      // no file_stream request ever repeated a step the server had
      const sentSteps = server.fileStreamRequests().flatMap((r) => (r.body.files?.['wandb-history.jsonl']?.content ?? []).map((l: string) => JSON.parse(l)._step));
      expect(new Set(sentSteps).size).to.equal(sentSteps.length);
    });
  });

  it('a resume after an outage drops the undelivered records the resumed run emits again, and sends each step once', async function () {
    const dir = await tempDir('wandb-resume-outage');
    const logger = recordingLogger();
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      await server.stop();
      const first = await trainer(dir, { runName: 'ro1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST, finishTimeout: 0.2 })], { logger });
      const firstRecords = collectRecords(first);
      first.hooks.afterStep.tap('test:stop', ({ epoch, batch }) => {
        if (epoch === 1 && batch === 4) first.stop('test');
      });
      expect((await first.run()).status).to.equal('interrupted');
      expect(await spooledSteps(join(dir, 'runs', 'ro1'))).to.deep.equal(firstRecords.map((r) => r.step));

      await server.start();
      const second = await trainer(dir, { runName: 'ro1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST })], { resume: 'latest', logger });
      const secondRecords = collectRecords(second);
      expect((await second.run()).status).to.equal('completed');
      const resumedFrom = secondRecords[0]!.step;
      expect(resumedFrom).to.be.at.most(firstRecords.at(-1)!.step);
      expect(logger.lines.some((l) => /dropped \d+ undelivered entries/.test(l))).to.equal(true);

      const run = server.onlyRun();
      expect(run.problems).to.deep.equal([]);
      expect(run.exitcode).to.equal(0);
      expect(historyRows(run.history)).to.deep.equal(recordRows(byStep([...firstRecords.filter((r) => r.step < resumedFrom), ...secondRecords])));
      const sentSteps = server.fileStreamRequests().flatMap((r) => (r.body.files?.['wandb-history.jsonl']?.content ?? []).map((l: string) => JSON.parse(l)._step));
      expect(sentSteps).to.deep.equal(run.history.map((r) => r._step));
    });
  });

  it('a resume refuses, in one line, a server whose history is not the one this run sent, and leaves it as it is; training completes', async function () {
    const dir = await tempDir('wandb-refuse');
    const logger = recordingLogger();
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const first = await trainer(dir, { runName: 'x1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST })]);
      first.hooks.afterStep.tap('test:stop', ({ epoch, batch }) => {
        if (epoch === 1 && batch === 4) first.stop('test');
      });
      expect((await first.run()).status).to.equal('interrupted');
      const run = server.onlyRun();
      // someone else's history under the same run id
      run.history.at(-1)!._step += 1000;
      const before = structuredClone(run.history);
      const requests = server.requests.length;

      const second = await trainer(dir, { runName: 'x1', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb({ ...FAST })], { resume: 'latest', logger });
      expect((await second.run()).status).to.equal('completed');
      const refusals = logger.warnings().filter((w) => w.includes('delivery stopped') && w.includes('is not the one this run sent to'));
      expect(refusals, logger.lines.join('\n')).to.have.length(1);
      expect(refusals[0]).to.not.include('\n');
      expect(run.history).to.deep.equal(before);
      expect(server.requests.slice(requests).map((r) => r.operation ?? r.path)).to.deep.equal(['RunResumeStatus']);
    });
  });

  it('offline mode only spools; `sync` uploads it all, and a second sync adds nothing', async function () {
    const dir = await tempDir('wandb-offline');
    const runDir = join(dir, 'runs', 'off1');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: 'offline' }, async () => {
      const t = await trainer(dir, { runName: 'off1' }, [wandb({ ...FAST })]);
      const records = collectRecords(t);
      expect((await t.run()).status).to.equal('completed');
      expect(server.requests).to.have.length(0);
      expect(await spooledSteps(runDir)).to.deep.equal(records.map((r) => r.step));

      const logger = recordingLogger();
      const first = await syncRun(runDir, { logger, timeoutMs: 20_000 });
      expect(first).to.include({ pending: 0, entity: 'poke-user', project: 'poke' });
      expect(first.delivered).to.include({ rows: records.length, upserts: 1, summaries: 1, finishes: 1 });
      const run = server.onlyRun();
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
      expect(run.exitcode).to.equal(0);
      // the files and system metrics travel through the spool too
      expect([...run.files.keys()].sort()).to.deep.equal(['config.yaml', 'output.log', 'wandb-metadata.json', 'wandb-summary.json']);
      expect([...run.files.values()].every((content) => content !== undefined)).to.equal(true);
      expect(first.delivered.files).to.equal(4);
      expect(run.events.length).to.be.greaterThan(0);
      const requests = server.requests.length;

      const second = await syncRun(runDir, { logger, timeoutMs: 20_000 });
      expect(second.delivered).to.deep.equal({ rows: 0, skipped: 0, upserts: 0, summaries: 0, finishes: 0, events: 0, logs: 0, files: 0 });
      expect(server.requests.length).to.equal(requests);
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
    });
  });

  it('disabled mode touches nothing: no request, no files', async function () {
    const dir = await tempDir('wandb-disabled');
    // Disabled by the environment, then by the option (one W&B plugin per run: they share a stateKey).
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: 'disabled' }, async () => {
      const t = await trainer(dir, { runName: 'd1' }, [wandb({ ...FAST })]);
      expect((await t.run()).status).to.equal('completed');
    });
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, { runName: 'd2' }, [wandb({ mode: 'disabled', baseUrl: server.url })]);
      expect((await t.run()).status).to.equal('completed');
    });
    expect(server.requests).to.have.length(0);
    expect(existsSync(join(dir, 'runs', 'd1', 'wandb'))).to.equal(false);
    expect(existsSync(join(dir, 'runs', 'd2', 'wandb'))).to.equal(false);
  });

  it('without an API key it warns once, spools, and sends nothing', async function () {
    const dir = await tempDir('wandb-nokey');
    const home = await tempDir('wandb-emptyhome');
    const logger = recordingLogger();
    await withEnv({ HOME: home, WANDB_API_KEY: undefined, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, { runName: 'k1' }, [wandb({ ...FAST })], { logger });
      const records = collectRecords(t);
      expect((await t.run()).status).to.equal('completed');
      expect(await spooledSteps(join(dir, 'runs', 'k1'))).to.deep.equal(records.map((r) => r.step));
    });
    expect(server.requests).to.have.length(0);
    expect(logger.warnings()).to.have.length(1);
    expect(logger.warnings()[0]).to.match(/no API key .*poke wandb sync/);
  });

  it('a server that refuses the key stops delivery with one warning that does not show the key; training completes', async function () {
    const dir = await tempDir('wandb-badkey');
    const logger = recordingLogger();
    const wrong = 'wrong0key0' + 'e'.repeat(30);
    await withEnv({ WANDB_API_KEY: wrong, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, { runName: 'w1' }, [wandb({ ...FAST })], { logger });
      expect((await t.run()).status).to.equal('completed');
    });
    const warnings = logger.warnings();
    expect(warnings.filter((w) => w.includes('delivery stopped') && w.includes('HTTP 401'))).to.have.length(1);
    expect(warnings.filter((w) => w.includes('were not delivered') && w.includes('poke wandb sync'))).to.have.length(1);
    expect(warnings).to.have.length(2);
    expect(logger.lines.join('\n')).to.not.include(wrong);
    expect(await filesContaining(join(dir, 'runs'), wrong)).to.deep.equal([]);
  });
});

describe('plugin-wandb options and credentials', () => {
  it('names the plugin and the option path in validation errors', () => {
    expect(() => wandb({ mode: 'sometimes' } as never)).to.throw(/^plugin poke:wandb: options\.mode must be/);
    expect(() => wandb({ tags: ['ok', 3] } as never)).to.throw(/plugin poke:wandb: options\.tags\/1|plugin poke:wandb: options\.tags\[1\]/);
    expect(() => wandb({ projct: 'x' } as never)).to.throw(/plugin poke:wandb: .*projct.*project/);
    expect(() => wandb({ baseUrl: 'ftp://x' })).to.throw(/plugin poke:wandb: options\.baseUrl/);
    expect(() => resolveWandbOptions({}, { WANDB_MODE: 'maybe' })).to.throw(/plugin poke:wandb: WANDB_MODE must be one of online, offline, disabled/);
    expect(() => resolveWandbOptions({}, { WANDB_BASE_URL: 'http://u:p@host' })).to.throw(/WANDB_BASE_URL must be/);
  });

  it('takes mode and base URL from the options first, then WANDB_MODE and WANDB_BASE_URL', () => {
    expect(resolveWandbOptions({}, {})).to.include({ mode: 'online', baseUrl: 'https://api.wandb.ai', project: 'poke' });
    expect(resolveWandbOptions({}, { WANDB_MODE: 'offline', WANDB_BASE_URL: 'https://wandb.example.com/' })).to.include({ mode: 'offline', baseUrl: 'https://wandb.example.com' });
    expect(resolveWandbOptions({}, { WANDB_MODE: 'dryrun' }).mode).to.equal('offline');
    expect(resolveWandbOptions({ mode: 'disabled', baseUrl: 'http://127.0.0.1:8080' }, { WANDB_MODE: 'offline', WANDB_BASE_URL: 'https://x.y' })).to.include({
      mode: 'disabled',
      baseUrl: 'http://127.0.0.1:8080',
    });
  });

  it('reads ~/.netrc as W&B tools write it: machine = host of the base URL, password = key; WANDB_API_KEY wins', async () => {
    const parsed = parseNetrc('machine a.b login x password "p w\\"q" # comment\nmacdef init\ncd /\n\ndefault login d password dk\nmachine api.wandb.ai\n  login user\n  password k1\nmachine api.wandb.ai password later\n');
    expect(parsed.machines.get('a.b')).to.deep.equal({ login: 'x', password: 'p w"q' });
    expect(parsed.machines.get('api.wandb.ai')!.password).to.equal('k1');
    expect(parsed.default!.password).to.equal('dk');
    const home = await netrcHome('wandb.example.com', API_KEY);
    expect(findApiKey('https://wandb.example.com:8443/', { HOME: home })).to.deep.equal({ key: API_KEY, source: join(home, '.netrc') });
    expect(findApiKey('https://other.host', { HOME: home })).to.equal(undefined);
    expect(findApiKey('https://wandb.example.com', { HOME: home, WANDB_API_KEY: 'env-key' })!.key).to.equal('env-key');
  });
});
