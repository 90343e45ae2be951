/**
 * poke against the official W&B Python SDK (wandb, pinned by scripts/install-wandb.sh),
 * both pointed at one recording server on 127.0.0.1 that answers as the real API does
 * (fixtures/wandb-server.ts says where each answer comes from in the SDK's source). The
 * SDK is the reference: the requests poke makes are compared with the SDK's field by
 * field, and only the differences listed in ALLOWED (and in docs/logging.md) pass. If a
 * future SDK changes the protocol, this is where it shows.
 */
import { expect } from 'chai';
import { load } from 'js-yaml';
import checkpoint from '@poke/plugin-checkpoint';
import wandb from '@poke/plugin-wandb';
import { consoleLogger } from '@poke/core';
import type { MetricsRecord, Trainer } from '@poke/core';
import { FakeWandbServer, parseWandbJson } from './fixtures/wandb-server.js';
import type { RecordedRequest, FakeRun } from './fixtures/wandb-server.js';
import { requirePythonSdk, runReference } from './fixtures/python-sdk.js';
import { API_KEY, collectRecords, historyRows, readJson, recordRows, runFileOf, tempDir, trainer, withEnv } from './helpers.js';
import { join } from 'node:path';

/** The differences from the SDK that poke is allowed, each with its reason (docs/logging.md lists them too). */
const ALLOWED = {
  /** The SDK may ask these; poke asks only what it needs: no feature flags (it uses no optional code path), no CoreWeave organization. */
  operationsOnlyTheSdkAsks: ['OrganizationCoreWeaveOrganizationID', 'ServerFeaturesQuery'],
  /**
   * poke asks Viewer for the key's default entity once, when no entity is configured, to name file_stream's
   * path before its first upsert; the SDK asks it only to print "logged in as" (not with WANDB_SILENT).
   */
  operationsOnlyPokeAsks: ['Viewer'],
  /** poke names the entity it got from Viewer (the SDK sends null and lets the server choose the same one); its runs are training jobs. */
  upsertFieldsOnlyPokeSends: ['entity', 'jobType'],
  /** Node has no pip freeze: poke uploads no requirements.txt (wandb-metadata.json names Node's and poke's versions). */
  filesOnlyTheSdkUploads: ['requirements.txt'],
  /** poke's summary adds the best value of each loss/accuracy and its step, and how the run ended. */
  summaryKeysOnlyPokeSends: /^(best\/.+|poke\/status)$/,
};

/** Keys of the SDK's system-metrics lines that poke sends too (core/internal/monitor/system.go names). */
const EVENT_KEYS = ['_wandb', '_runtime', '_timestamp', 'system.memory_percent', 'system.proc.memory.rssMB', 'system.proc.memory.percent', 'system.proc.memory.availableMB'];
const STREAMED_FILES = ['output.log', 'wandb-events.jsonl', 'wandb-history.jsonl', 'wandb-summary.json'];
/** output.log as the SDK streams it: "ERROR " for stderr, UTC to the microsecond, the text. */
const CONSOLE_LINE = /^(ERROR )?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6} /;

/** What one client sent about one run. */
interface Traffic {
  operations: string[];
  upserts: Array<Record<string, any>>;
  createdFiles: string[];
  uploads: Map<string, string>;
  streams: any[];
}

function trafficOf(requests: RecordedRequest[], id: string): Traffic {
  const mine = requests.filter((r) => r.path.includes(`/${id}/`) || (r.path === '/graphql' && ![r.body?.variables?.name, r.body?.variables?.run].some((v) => v && v !== id)));
  return {
    operations: mine.flatMap((r) => (r.operation ? [r.operation] : [])),
    upserts: mine.filter((r) => r.operation === 'UpsertBucket').map((r) => r.body.variables),
    createdFiles: mine.filter((r) => r.operation === 'CreateRunFiles').flatMap((r) => r.body.variables.files as string[]),
    uploads: new Map(mine.filter((r) => r.method === 'PUT').map((r) => [decodeURIComponent(r.path.split('/').at(-1)!), r.text])),
    streams: mine.filter((r) => r.path.endsWith('/file_stream')).map((r) => r.body),
  };
}

/** The lines a client streamed to one file, checking that each request continues where the last one ended. */
function streamedLines(traffic: Traffic, file: string, from = 0): string[] {
  const lines: string[] = [];
  for (const body of traffic.streams) {
    const chunk = body.files?.[file];
    if (!chunk) continue;
    expect(chunk.offset, `${file} offset`).to.equal(from + lines.length);
    lines.push(...chunk.content);
  }
  return lines;
}

function nonNullKeys(vars: Record<string, unknown>): string[] {
  return Object.keys(vars).filter((k) => vars[k] !== null && vars[k] !== undefined).sort();
}

function configShape(json: string): Record<string, any> {
  const config = parseWandbJson(json) as Record<string, any>;
  for (const [key, entry] of Object.entries(config)) expect(Object.keys(entry), `config key ${key}`).to.deep.equal(['value']);
  return config;
}

/** Rows as the reference script takes them: a non-finite value named, since JSON has no such number. */
function referenceRows(records: readonly MetricsRecord[]): Array<{ step: number; metrics: Record<string, number | string> }> {
  return records.map((r) => ({ step: r.step, metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)])) }));
}

/** Stop the first attempt in the middle of epoch 2, after the checkpoint of epoch 1. */
function stopMidRun(t: Trainer): void {
  t.hooks.afterStep.tap('test:stop', ({ epoch, batch }) => {
    if (epoch === 1 && batch === 4) t.stop('test');
  });
}

describe('plugin-wandb and the official W&B Python SDK against one recording server', function () {
  this.timeout(300_000);
  let python: string;
  let server: FakeWandbServer;

  before(async function () {
    python = await requirePythonSdk(this);
  });
  beforeEach(async () => {
    server = await FakeWandbServer.create({ apiKey: API_KEY, defaultEntity: 'conformance' });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('the same steps, side by side: poke sends what the SDK sends, field by field, but for the documented differences', async () => {
    const dir = await tempDir('wandb-conformance');
    const sdkDir = await tempDir('wandb-sdk');
    // A diverging learning rate: the loss becomes NaN, which both must send as W&B's bare token.
    const user = { runName: 'side', train: { epochs: 2, learningRate: 1e30 } };
    let records: MetricsRecord[] = [];
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const t = await trainer(dir, user, [wandb({ project: 'conformance', name: 'side by side', tags: ['bc'], flushInterval: 0.05, finishTimeout: 20 })], { logger: consoleLogger });
      records = collectRecords(t);
      t.hooks.afterEpoch.tap('test:print', ({ epoch }) => console.log(`epoch ${epoch} done`));
      expect((await t.run()).status).to.equal('completed');
    });
    const pokeId: string = (await runFileOf(dir, 'side')).id;
    expect(records.some((r) => Object.values(r.metrics).some((v) => Number.isNaN(v)))).to.equal(true);
    const mark = server.requests.length;
    await runReference(python, sdkDir, server.url, API_KEY, {
      mode: 'new', id: 'ref00001', project: 'conformance', name: 'side by side', tags: ['bc'], config: { lr: 1e30, model: { hiddenSizes: [16] } },
      rows: referenceRows(records), stdout: records.length ? ['epoch 0 done'] : [], stderr: ['warning: printed to stderr'],
    });
    const poke = trafficOf(server.requests.slice(0, mark), pokeId);
    const sdk = trafficOf(server.requests.slice(mark), 'ref00001');

    // GraphQL: poke asks nothing the SDK does not, in the same order.
    const sdkOps = new Set(sdk.operations);
    const pokeOps = new Set(poke.operations);
    expect([...pokeOps].filter((op) => !sdkOps.has(op))).to.deep.equal(ALLOWED.operationsOnlyPokeAsks);
    // (the SDK asks ServerFeaturesQuery when it streams console lines, so it may not always)
    expect([...sdkOps].filter((op) => !pokeOps.has(op) && !ALLOWED.operationsOnlyTheSdkAsks.includes(op))).to.deep.equal([]);
    const order = (ops: string[]) => ['UpsertBucket', 'CreateRunFiles'].map((op) => ops.indexOf(op));
    for (const ops of [poke.operations, sdk.operations]) expect(order(ops)).to.deep.equal([...order(ops)].sort((a, b) => a - b));

    // The run's first upsert: the same fields set, the same name and tags, config as { key: { value } } with _wandb.t.
    const [pokeUpsert, sdkUpsert] = [poke.upserts[0]!, sdk.upserts[0]!];
    expect(nonNullKeys(pokeUpsert).filter((k) => !ALLOWED.upsertFieldsOnlyPokeSends.includes(k))).to.deep.equal(nonNullKeys(sdkUpsert));
    for (const vars of [pokeUpsert, sdkUpsert]) {
      expect(vars).to.include({ displayName: 'side by side' });
      expect(vars.tags).to.deep.equal(['bc']);
      const config = configShape(vars.config);
      expect(config._wandb.value.t).to.be.an('object');
      expect(config._wandb.value.m).to.be.an('array');
      expect(vars.host).to.be.a('string');
    }
    // Later upserts leave the name and tags as the server has them.
    for (const vars of [...poke.upserts.slice(1), ...sdk.upserts.slice(1)]) expect(vars).to.include({ displayName: null });

    // file_stream: the same top-level fields and the same four files.
    const fields = (t: Traffic) => [...new Set(t.streams.flatMap((b) => Object.keys(b)))].sort();
    expect(fields(poke)).to.deep.equal(fields(sdk));
    const files = (t: Traffic) => [...new Set(t.streams.flatMap((b) => Object.keys(b.files ?? {})))].sort();
    expect(files(sdk)).to.deep.equal(STREAMED_FILES);
    expect(files(poke)).to.deep.equal(STREAMED_FILES);

    // History: the same rows, the same keys, line after line; NaN as a bare token.
    const [pokeHistory, sdkHistory] = [streamedLines(poke, 'wandb-history.jsonl'), streamedLines(sdk, 'wandb-history.jsonl')];
    expect(pokeHistory).to.have.length(records.length);
    expect(sdkHistory).to.have.length(records.length);
    pokeHistory.forEach((line, i) => {
      const [p, s] = [parseWandbJson(line), parseWandbJson(sdkHistory[i]!)];
      expect(Object.keys(p).sort(), `keys of line ${i}`).to.deep.equal(Object.keys(s).sort());
      for (const key of Object.keys(s)) if (!['_runtime', '_timestamp'].includes(key)) expect(Object.is(p[key], s[key]) || p[key] === s[key], `${key} of line ${i}`).to.equal(true);
    });
    const nanLines = (lines: string[]) => lines.filter((l) => /:NaN[,}]/.test(l)).length;
    expect(nanLines(pokeHistory)).to.be.greaterThan(0);
    expect(nanLines(pokeHistory)).to.equal(nanLines(sdkHistory));
    expect(pokeHistory.join('\n')).to.not.include('"NaN"');

    // System metrics: the SDK's names, with _wandb, _runtime and _timestamp.
    for (const t of [poke, sdk]) {
      const events = streamedLines(t, 'wandb-events.jsonl').map(parseWandbJson);
      expect(events.length).to.be.greaterThan(0);
      for (const line of events) expect(line).to.include.keys(EVENT_KEYS);
    }

    // Console: stdout and stderr lines in the SDK's format.
    for (const t of [poke, sdk]) {
      const lines = streamedLines(t, 'output.log');
      expect(lines.length).to.be.greaterThan(0);
      for (const line of lines) expect(line).to.match(CONSOLE_LINE);
      expect(lines.some((l) => l.startsWith('ERROR '))).to.equal(true);
    }

    // Summary: the SDK's keys (poke adds its documented ones), with _wandb.runtime in whole seconds.
    const lastSummary = (t: Traffic) => parseWandbJson(t.streams.filter((b) => b.files?.['wandb-summary.json']).at(-1).files['wandb-summary.json'].content.at(-1));
    const [pokeSummary, sdkSummary] = [lastSummary(poke), lastSummary(sdk)];
    expect(Object.keys(pokeSummary).filter((k) => !ALLOWED.summaryKeysOnlyPokeSends.test(k)).sort()).to.deep.equal(Object.keys(sdkSummary).sort());
    for (const summary of [pokeSummary, sdkSummary]) expect(Number.isInteger(summary._wandb.runtime)).to.equal(true);

    // Files: CreateRunFiles, a PUT to each URL, then `uploaded` naming them.
    expect(poke.createdFiles.sort()).to.deep.equal(sdk.createdFiles.filter((f) => !ALLOWED.filesOnlyTheSdkUploads.includes(f)).sort());
    for (const t of [poke, sdk]) {
      expect([...t.uploads.keys()].sort()).to.deep.equal([...t.createdFiles].sort());
      expect(t.streams.flatMap((b) => b.uploaded ?? []).sort()).to.deep.equal([...t.createdFiles].sort());
      const yaml = load(t.uploads.get('config.yaml')!) as Record<string, any>;
      for (const [key, entry] of Object.entries(yaml)) expect(Object.keys(entry), `config.yaml ${key}`).to.deep.equal(['value']);
      expect(yaml._wandb.value.t).to.be.an('object');
      expect(JSON.parse(t.uploads.get('wandb-metadata.json')!)).to.include.keys('os', 'startedAt', 'program', 'root', 'host', 'executable', 'cpu_count_logical', 'memory', 'cpu');
      expect(parseWandbJson(t.uploads.get('wandb-summary.json')!)).to.include.keys('_step', '_runtime', '_timestamp', '_wandb');
      expect(t.uploads.get('output.log')).to.match(/\S/);
      // the last request closes the run
      expect(t.streams.at(-1)).to.include({ complete: true, exitcode: 0 });
    }
    const metadata = JSON.parse(poke.uploads.get('wandb-metadata.json')!);
    expect(metadata).to.include.keys('node', 'poke', 'backend');
    for (const run of server.runs.values()) expect(run.problems).to.deep.equal([]);
  });

  it('history and system metrics reach the server while poke trains, and system metrics keep coming while it is quiet', async () => {
    const dir = await tempDir('wandb-heartbeat');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      // short intervals instead of the SDK's 15 s, so the test does not wait for them
      const t = await trainer(dir, { runName: 'hb', train: { epochs: 2 } }, [wandb({ project: 'hb', flushInterval: 0.1, statsInterval: 0.1, finishTimeout: 10 })]);
      let seenWhileTraining: { rows: number; events: number } | undefined;
      t.hooks.afterEpoch.tapPromise('test:quiet', async ({ epoch }) => {
        if (epoch !== 0) return;
        // training is paused here: history must already be there, and system metrics must go on arriving
        const run = () => server.runs.values().next().value as FakeRun | undefined;
        while (!run()?.history.length) await new Promise((r) => setTimeout(r, 20));
        const before = run()!.events.length;
        while (run()!.events.length < before + 2) await new Promise((r) => setTimeout(r, 20));
        seenWhileTraining = { rows: run()!.history.length, events: run()!.events.length };
      });
      const records = collectRecords(t);
      expect((await t.run()).status).to.equal('completed');
      expect(seenWhileTraining!.rows).to.be.greaterThan(0).and.lessThan(records.length);
      const run = server.onlyRun();
      expect(historyRows(run.history)).to.deep.equal(recordRows(records));
      expect(run.problems).to.deep.equal([]);
    });
  });

  it('a resume asks the server, sends again what it lost, leaves web-UI edits alone, and counts only the time spent running', async () => {
    const dir = await tempDir('wandb-conf-resume');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const options = { project: 'resume', name: 'first name', tags: ['first'], flushInterval: 0.05, finishTimeout: 10 };
      const first = await trainer(dir, { runName: 'r', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb(options)]);
      const firstRecords = collectRecords(first);
      stopMidRun(first);
      expect((await first.run()).status).to.equal('interrupted');
      const run = server.onlyRun();
      const sent = run.history.length;
      expect(sent).to.equal(firstRecords.length);
      const activeFirst: number = (await readJson(join(dir, 'runs', 'r', 'run.json'))).activeSeconds;
      // Meanwhile, in the web UI: a new name and tags. And the server lost the last two lines.
      server.editInUi(run.entity, run.project, run.name, { displayName: 'renamed in the UI', tags: ['from-ui'] });
      run.history.splice(sent - 2);
      const mark = server.requests.length;

      const second = await trainer(dir, { runName: 'r', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb(options)], { resume: 'latest' });
      const secondRecords = collectRecords(second);
      expect((await second.run()).status).to.equal('completed');
      const after = server.requests.slice(mark);
      const ops = after.flatMap((r) => (r.operation ? [r.operation] : []));
      expect(ops.indexOf('RunResumeStatus')).to.be.within(0, ops.indexOf('UpsertBucket'));
      const upsert = after.find((r) => r.operation === 'UpsertBucket')!.body.variables;
      expect(upsert).to.include({ displayName: null });
      expect(upsert.tags).to.deep.equal(['from-ui']);
      expect(run).to.include({ displayName: 'renamed in the UI', exitcode: 0 });
      expect(run.tags).to.deep.equal(['from-ui']);
      // the first history request after the resume continues at the server's count, not the local one
      const firstStream = after.find((r) => r.body?.files?.['wandb-history.jsonl'])!;
      expect(firstStream.body.files['wandb-history.jsonl'].offset).to.equal(sent - 2);
      const lastFirst = firstRecords.at(-1)!.step;
      expect(historyRows(run.history)).to.deep.equal(recordRows([...firstRecords, ...secondRecords.filter((r) => r.step > lastFirst)]));
      expect(run.problems).to.deep.equal([]);
      // runtime: the time the two attempts ran, as run.json counts it, not the time since the run was created
      const info = await readJson(join(dir, 'runs', 'r', 'run.json'));
      expect(run.summary!._runtime).to.be.at.least(activeFirst).and.at.most(info.activeSeconds);
      expect(run.history.at(-1)!._runtime).to.be.at.most(run.summary!._runtime);
    });
  });

  it('the Python SDK resumes a poke run (resume="must") and continues its history; poke resumes after it and sends no step twice', async () => {
    const dir = await tempDir('wandb-conf-handover');
    const sdkDir = await tempDir('wandb-sdk-resume');
    await withEnv({ WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.url, WANDB_MODE: undefined }, async () => {
      const options = { project: 'handover', flushInterval: 0.05, finishTimeout: 10 };
      const first = await trainer(dir, { runName: 'h', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb(options)]);
      const firstRecords = collectRecords(first);
      stopMidRun(first);
      expect((await first.run()).status).to.equal('interrupted');
      const { id } = await runFileOf(dir, 'h');
      const run = server.onlyRun();
      const pokeLines = run.history.length;
      const lastPoke = firstRecords.at(-1)!.step;

      const mark = server.requests.length;
      const rows = [1, 2, 3].map((i) => ({ step: lastPoke + i, metrics: { loss: 1 / i } }));
      const { startingStep } = await runReference(python, sdkDir, server.url, API_KEY, { mode: 'resume', id, project: 'handover', rows });
      expect(startingStep).to.equal(lastPoke + 1);
      const sdkStreams = server.requests.slice(mark).filter((r) => r.body?.files?.['wandb-history.jsonl']);
      expect(sdkStreams[0]!.body.files['wandb-history.jsonl'].offset).to.equal(pokeLines);
      expect(run.history.map((r) => r._step)).to.deep.equal([...firstRecords.map((r) => r.step), ...rows.map((r) => r.step)]);
      expect(run.exitcode).to.equal(0);

      // poke resumes from its checkpoint, older than the server's history: the SDK's steps stay, and none is sent twice.
      const second = await trainer(dir, { runName: 'h', train: { epochs: 3 } }, [checkpoint({ saveLast: false }), wandb(options)], { resume: 'latest' });
      const secondRecords = collectRecords(second);
      expect((await second.run()).status).to.equal('completed');
      const lastSdk = rows.at(-1)!.step;
      expect(run.history.map((r) => r._step)).to.deep.equal([
        ...firstRecords.map((r) => r.step),
        ...rows.map((r) => r.step),
        ...secondRecords.filter((r) => r.step > lastSdk).map((r) => r.step),
      ]);
      expect(run.problems).to.deep.equal([]);
      expect(run.exitcode).to.equal(0);
    });
  });
});
