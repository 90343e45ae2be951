import { expect } from 'chai';
import fc from 'fast-check';
import { mkdir, writeFile, rm, readdir, readFile, cp, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig, resolveConfig, readShards, writeShards, generateSynthetic, isUserError } from '@poke/core';
import { CheckpointManager, readCheckpoint, CheckpointError } from '@poke/plugin-checkpoint';
import { ACTION_COUNT, FEATURE_SIZE, playBattle } from '@poke/showdown';
import type { ImportResult } from '@poke/showdown';
import { summary, tempDir, poke, start } from './support.js';

const RUNS = Number(process.env.POKE_CHAOS_PROPERTY_RUNS ?? 150);

/** Anything JSON can hold, with path-like and prototype-polluting strings mixed in. */
const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom('../../etc/passwd', '/etc/passwd', '..', '.', '__proto__', 'constructor', 'epoch0001-step00000001/../../x', 'a\u0000b', '${process.exit(1)}', "require('child_process')"),
);
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Set `path` in a copy of `obj` to `value`: a valid document with one field replaced by something hostile. */
function mutate(obj: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = Array.isArray(obj) ? [...obj] : { ...(obj as Record<string, unknown>) };
  (copy as Record<string, unknown>)[path[0]!] = mutate((obj as Record<string, unknown>)?.[path[0]!], path.slice(1), value);
  return copy;
}

function paths(obj: unknown, prefix: string[] = []): string[][] {
  if (obj === null || typeof obj !== 'object') return [prefix];
  return [prefix, ...Object.entries(obj).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

/** Stands for a 100,000-character field (so that counterexamples stay readable). */
const LONG = '<100000 x>';

/** Values a broken or hostile replay might hold in any field of a protocol line. */
const hostileField = fc.oneof(
  fc.constantFrom(
    '9'.repeat(400), '1e308', '-1e308', '-5/100', '-5', '0/0', '100/0', '1e308/100', 'NaN', 'NaN/NaN', 'Infinity', '',
    'Missingno', 'Fakemon, L50', 'Pikachu, L9999999', `Pikachu, L${'9'.repeat(400)}`, 'notamove', 'p1a: Nobody', 'p2a: ', 'p3a: Pikachu',
    '__proto__', 'constructor', 'prototype', 'toString', 'p1a: __proto__', 'p1a: constructor',
    '../../etc/passwd', '/etc/passwd', LONG, 'a\u0000b', '\u202e\u001b[31mred', 'é😀𝕏', '{}', 'null', '[]',
    '{"side":{"id":"p1","pokemon":[]}}', '${process.exit(1)}', "require('child_process').execSync('touch pwned')",
  ),
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
);

type LogMutation =
  | { kind: 'truncateLine' | 'truncateChar' | 'drop' | 'duplicate'; at: number }
  | { kind: 'swap'; at: number; other: number }
  | { kind: 'field'; at: number; field: number; value: string }
  | { kind: 'request'; at: number; path: number; value: unknown };

const logMutation: fc.Arbitrary<LogMutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('truncateLine' as const, 'truncateChar' as const, 'drop' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('field' as const), at: fc.nat(), field: fc.nat(), value: hostileField }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('request' as const), at: fc.nat(), path: fc.nat(), value: fc.oneof(hostileJson, hostileField) }) },
);

/** A protocol log with the mutations applied in order (line numbers taken modulo the current length). */
function mutateLog(text: string, mutations: readonly LogMutation[]): string {
  let lines = text.split('\n');
  for (const m of mutations) {
    const i = m.at % Math.max(1, lines.length);
    if (m.kind === 'truncateLine') lines = lines.slice(0, i);
    else if (m.kind === 'truncateChar') {
      const all = lines.join('\n');
      lines = all.slice(0, m.at % (all.length + 1)).split('\n');
    } else if (m.kind === 'drop') lines.splice(i, 1);
    else if (m.kind === 'duplicate') lines.splice(i, 0, lines[i] ?? '');
    else if (m.kind === 'swap') {
      const j = m.other % Math.max(1, lines.length);
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
    } else if (m.kind === 'field') {
      const parts = (lines[i] ?? '').split('|');
      parts[m.field % parts.length] = m.value === LONG ? 'x'.repeat(100_000) : m.value;
      lines[i] = parts.join('|');
    } else if (m.kind === 'request') {
      // One field inside a `|request|` JSON (player logs only).
      const requests = lines.flatMap((l, k) => (l.startsWith('|request|{') ? [k] : []));
      if (!requests.length) continue;
      const k = requests[m.at % requests.length]!;
      let request: unknown;
      try {
        request = JSON.parse(lines[k]!.slice(9));
      } catch {
        continue;
      }
      const targets = paths(request);
      lines[k] = `|request|${JSON.stringify(mutate(request, targets[m.path % targets.length]!, m.value))}`;
    }
  }
  return lines.join('\n');
}

/**
 * A spectator's replay made from an omniscient log: HP as percentages (what saved
 * replays show), and the join, chat, timer and HTML lines replays carry.
 */
function spectatorLog(log: string): string {
  const hpField = new Map([['switch', 4], ['drag', 4], ['-damage', 3], ['-heal', 3], ['-sethp', 3]]);
  const lines = log.split('\n').map((line) => {
    const parts = line.split('|');
    const at = hpField.get(parts[1] ?? '');
    const hp = at ? /^(\d+)\/(\d+)(.*)$/.exec(parts[at] ?? '') : null;
    if (at && hp) parts[at] = `${Math.ceil((100 * Number(hp[1])) / Number(hp[2]))}/100${hp[3]}`;
    return parts.join('|');
  });
  lines.splice(lines.indexOf('|start'), 0, '|j|☆poke-p1', '|t:|1700000000', '|c|☆poke-p2|gl hf ../../etc/passwd', '|raw|<b>rated</b>', '|inactive|Battle timer is ON');
  return lines.join('\n');
}

/** How a replay file is made: fast-check shrinks and prints this recipe, not the file. */
type ReplaySource =
  | { kind: 'log'; log: number; mutations: LogMutation[]; json: boolean }
  | { kind: 'json-log-not-a-string'; log: unknown }
  | { kind: 'json-cut'; log: number; cut: number }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array };

interface ReplayFile {
  name: string;
  source: ReplaySource;
}

const REPLAY_NAMES = ['replay.log', 'replay.json', 'my replay (1).json', 'répl😀y ☕.log', 'spaced  name .log', `${'x'.repeat(180)}.log`, '..log', 'p1.log'];

/**
 * One replay file: a valid log (player, omniscient or spectator; `logs` of them) with
 * up to 3 mutations, as raw text or in replay JSON; replay JSON whose log is not a
 * string; JSON cut short; arbitrary text; arbitrary bytes.
 */
function replayFile(logs: number): fc.Arbitrary<ReplayFile> {
  const log = fc.nat(logs - 1);
  const source: fc.Arbitrary<ReplaySource> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('log' as const), log, mutations: fc.array(logMutation, { maxLength: 3 }), json: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json-log-not-a-string' as const), log: hostileJson.filter((v) => typeof v !== 'string') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json-cut' as const), log, cut: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
  );
  return fc.record({ name: fc.constantFrom(...REPLAY_NAMES), source });
}

function contentOf(source: ReplaySource, logs: readonly string[]): string | Uint8Array {
  switch (source.kind) {
    case 'log': {
      const text = mutateLog(logs[source.log]!, source.mutations);
      return source.json ? JSON.stringify({ id: 'gen9randombattle-1', format: 'gen9randombattle', players: ['a', 'b'], log: text, uploadtime: 1 }) : text;
    }
    case 'json-log-not-a-string':
      return JSON.stringify({ id: 'x', log: source.log });
    case 'json-cut': {
      const json = JSON.stringify({ log: logs[source.log]! });
      return json.slice(0, 1 + (source.cut % (json.length - 1)));
    }
    case 'text':
      return source.text;
    case 'bytes':
      return source.bytes;
  }
}

/** Write the files into `folder` (names made unique with an index); returns their names. */
async function writeReplays(folder: string, files: readonly ReplayFile[], logs: readonly string[]): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const names = files.map((f, i) => `${i}-${f.name}`);
  for (const [i, f] of files.entries()) await writeFile(join(folder, names[i]!), contentOf(f.source, logs));
  return names;
}

/** How a skip reason may read after `file: `: one of the importer's own reasons, never a runtime error from deep code. */
const KNOWN_REASON = /^(not valid JSON: |replay JSON has no "log" string$|no \|start\| line|unsupported generation |unsupported game type |truncated: |line \d+: )/;

interface ImportReply {
  result?: ImportResult;
  /** The stack of what importReplayFiles threw. */
  thrown?: string;
  /** Own property names added to Object/Array/Function.prototype during the import. */
  polluted: string[];
}

/** Imports in a worker thread, so that a synchronous endless loop can be stopped and reported. */
const IMPORT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const showdown = import(workerData.url);
const names = () => [Object.prototype, Array.prototype, Function.prototype].flatMap((p) => Object.getOwnPropertyNames(p));
parentPort.on('message', async ({ id, files }) => {
  const before = new Set(names());
  try {
    const result = await (await showdown).importReplayFiles(files);
    parentPort.postMessage({ id, result, polluted: names().filter((n) => !before.has(n)) });
  } catch (err) {
    parentPort.postMessage({ id, thrown: err instanceof Error ? String(err.stack) : 'a non-Error: ' + String(err), polluted: [] });
  }
});`;

class ImportWorker {
  private worker!: Worker;
  private alive = false;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: ImportReply) => void; reject: (e: Error) => void }>();

  constructor(private readonly url: string) {
    this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(IMPORT_WORKER, { eval: true, workerData: { url: this.url }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    const fail = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('message', (m: ImportReply & { id: number }) => {
      this.waiting.get(m.id)?.resolve(m);
      this.waiting.delete(m.id);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      this.alive = false;
      fail(new Error(`the import worker exited (code ${code})`));
    });
    this.worker = worker;
    this.alive = true;
  }

  /** importReplayFiles(files), or a failure when it has not returned after `budgetMs` (the worker is then replaced). */
  async run(files: readonly string[], budgetMs = 10_000): Promise<ImportReply> {
    if (!this.alive) this.spawn();
    const id = this.next++;
    const reply = new Promise<ImportReply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.worker.postMessage({ id, files });
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), budgetMs)));
    const outcome = await Promise.race([reply, hang]).finally(() => clearTimeout(timer));
    if (outcome !== 'hang') return outcome;
    this.waiting.delete(id);
    const stuck = this.worker;
    stuck.removeAllListeners('exit');
    await stuck.terminate();
    this.spawn();
    throw new Error(`importReplayFiles did not return within ${budgetMs / 1000} s (a hang) on ${files.join(', ')}`);
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** The importer's contract for hostile files; returns the result. */
function checkImport(reply: ImportReply, files: readonly string[]): ImportResult {
  if (reply.thrown !== undefined) throw new Error(`importReplayFiles threw instead of skipping the file:\n${reply.thrown}`);
  expect(reply.polluted, 'properties added to a built-in prototype').to.deep.equal([]);
  const result = reply.result!;
  expect(result.battles + result.skipped).to.equal(files.length);
  if (result.skipped > 0) {
    const reason = result.firstSkipReason;
    expect(reason).to.be.a('string');
    expect(reason, 'the reason is one printable line').to.not.match(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
    const name = files.map((f) => basename(f)).find((n) => reason!.startsWith(`${n}: `));
    expect(name, `the reason starts with a file name: ${reason}`).to.not.equal(undefined);
    const why = reason!.slice(name!.length + 2);
    expect(why).to.match(KNOWN_REASON);
    expect(why.length, why.slice(0, 400)).to.be.at.most(300);
  } else {
    expect(result.firstSkipReason).to.equal(undefined);
  }
  for (const d of result.decisions) {
    expect(d.side).to.be.oneOf(['p1', 'p2']);
    expect(d.features.length).to.equal(FEATURE_SIZE);
    const bad = d.features.findIndex((v) => !Number.isFinite(v));
    expect(bad, `feature ${bad} is ${d.features[bad]}`).to.equal(-1);
    expect(d.mask.length).to.equal(ACTION_COUNT);
    expect(d.mask.some(Boolean), 'at least one legal action').to.equal(true);
    expect(Number.isInteger(d.action) && d.mask[d.action] === 1, `action ${d.action} is legal in its mask`).to.equal(true);
  }
  return result;
}

/** Every file under `root` (relative path, size, mtime), to show what a command wrote. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path);
    out.push(`${relative(root, path)}${entry.isDirectory() ? '/' : ` ${info.size} ${info.mtimeMs}`}`);
  }
  return out.sort();
}

/** The only acceptable failure: a user error (one line, exit 2), never a crash. */
async function onlyUserErrors(fn: () => Promise<unknown>): Promise<'ok' | 'refused'> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    if (isUserError(err) || err instanceof CheckpointError) return 'refused';
    throw err;
  }
}

describe('chaos: hostile input', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let validRun: string;
  const tally = { cases: 0, refused: 0 };

  before(async () => {
    dir = await tempDir('hostile');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ runName: 'ok', data: { samples: 200, features: 8, actions: 4 }, model: { hiddenSizes: [8] }, train: { epochs: 2, backend: 'cpu' }, plugins: ['@poke/plugin-checkpoint'] }));
    const r = await poke(['train', '--no-progress'], dir);
    expect(r.code, r.stderr).to.equal(0);
    validRun = join(dir, 'runs', 'ok');
  });

  // Replay logs: real battles to mutate, and a worker thread to import in.
  const replayLogs: string[] = [];
  let importer: ImportWorker;
  before(async () => {
    for (const [seed, opponent] of [[3, 'random'], [5, 'expert']] as const) {
      const battle = playBattle({ format: 'gen9randombattle', seed, p1: { kind: 'expert' }, p2: opponent === 'random' ? { kind: 'random', seed } : { kind: 'expert' }, keepLog: true });
      replayLogs.push(battle.log!, spectatorLog(battle.log!), battle.playerLogs!.p1, battle.playerLogs!.p2);
    }
    importer = new ImportWorker(import.meta.resolve('@poke/showdown'));
    // Every log imports whole before it is mutated (player logs, omniscient and spectator replays).
    const folder = join(dir, 'replay-fixtures');
    const names = await writeReplays(folder, replayLogs.map((_, log) => ({ name: 'replay.log', source: { kind: 'log', log, mutations: [], json: false } })), replayLogs);
    const result = checkImport(await importer.run(names.map((n) => join(folder, n)), 120_000), names);
    expect(result.battles).to.equal(replayLogs.length);
    for (const side of ['p1', 'p2']) expect(result.decisions.filter((d) => d.side === side).length).to.be.greaterThan(20);
  });

  after(async () => {
    await importer?.close();
  });

  after(() => {
    summary.push({ scenario: 'hostile input (property-based)', runs: tally.cases, faults: tally.cases, resumed: 0, recordsLost: 0, notes: `${tally.refused} refused with a clear error, 0 crashes, 0 paths outside the folder` });
  });

  it('config files: any JSON is accepted or refused with a user error', async () => {
    const cfgDir = join(dir, 'cfg');
    await mkdir(cfgDir, { recursive: true });
    await fc.assert(
      fc.asyncProperty(hostileJson, async (value) => {
        await writeFile(join(cfgDir, 'poke.config.json'), JSON.stringify(value));
        tally.cases++;
        const outcome = await onlyUserErrors(async () => resolveConfig(await loadConfig({ cwd: cfgDir })));
        if (outcome === 'refused') tally.refused++;
      }),
      { numRuns: RUNS },
    );
  });

  it('config files: arbitrary text as JSON, YAML and TypeScript configs', async () => {
    const cfgDir = join(dir, 'cfg-text');
    await mkdir(cfgDir, { recursive: true });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('poke.config.json', '.pokerc.yaml', 'poke.config.ts'), fc.string({ maxLength: 200 }), async (file, text) => {
        for (const f of await readdir(cfgDir)) await rm(join(cfgDir, f));
        await writeFile(join(cfgDir, file), text);
        tally.cases++;
        const outcome = await onlyUserErrors(async () => resolveConfig(await loadConfig({ cwd: cfgDir })));
        if (outcome === 'refused') tally.refused++;
      }),
      { numRuns: RUNS },
    );
  });

  it('manifests: a hostile checkpoints.json never names a folder outside checkpoints/', async () => {
    const ckpts = join(validRun, 'checkpoints');
    const original = JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8'));
    const targets = paths(original);
    const scratch = join(dir, 'manifest-scratch');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), hostileJson, async (path, value) => {
        await rm(scratch, { recursive: true, force: true });
        await cp(ckpts, scratch, { recursive: true, verbatimSymlinks: true });
        await writeFile(join(scratch, 'checkpoints.json'), JSON.stringify(mutate(original, path, value)));
        tally.cases++;
        let manager: CheckpointManager | undefined;
        const outcome = await onlyUserErrors(async () => {
          manager = await CheckpointManager.open(scratch, { monitor: { name: 'val_loss', mode: 'min' } });
        });
        if (outcome === 'refused') tally.refused++;
        for (const entry of manager?.list() ?? []) {
          const folder = resolve(manager!.pathOf(entry.id));
          expect(folder.startsWith(resolve(scratch) + sep), folder).to.equal(true);
        }
        // A writer repairs instead of refusing: it rebuilds from the folders and never fails on bad JSON.
        const repaired = await CheckpointManager.open(scratch, { monitor: { name: 'val_loss', mode: 'min' }, repair: true, logger: { info() {}, warn() {} } });
        expect(repaired.list().length).to.be.greaterThan(0);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('metadata.json and state.json: altered fields are refused with a checkpoint error naming the file', async () => {
    const ckpts = join(validRun, 'checkpoints');
    const id = JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8')).latest;
    const metadata = JSON.parse(await readFile(join(ckpts, id, 'metadata.json'), 'utf8'));
    const scratch = join(dir, 'meta-scratch', id);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths(metadata).filter((p) => p.length > 0)), hostileJson, async (path, value) => {
        await rm(join(dir, 'meta-scratch'), { recursive: true, force: true });
        await cp(join(ckpts, id), scratch, { recursive: true });
        await writeFile(join(scratch, 'metadata.json'), JSON.stringify(mutate(metadata, path, value)));
        tally.cases++;
        const outcome = await onlyUserErrors(() => readCheckpoint(scratch));
        if (outcome === 'refused') tally.refused++;
      }),
      { numRuns: RUNS },
    );
  });

  it('shard indexes: hostile index.json never reads outside the folder and never crashes', async () => {
    const shards = join(dir, 'shards');
    await writeShards(shards, generateSynthetic({ samples: 50, features: 4, actions: 3, legalProbability: 0.7, noise: 0 }, 1), { shardSize: 20 });
    await writeFile(join(dir, 'outside.bin'), Buffer.alloc(20 * (4 * 4 + 4 + 3)));
    const index = JSON.parse(await readFile(join(shards, 'index.json'), 'utf8'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths(index)), fc.oneof(hostileJson, fc.constantFrom('../outside.bin', join(dir, 'outside.bin'))), async (path, value) => {
        await writeFile(join(shards, 'index.json'), JSON.stringify(mutate(index, path, value)));
        tally.cases++;
        const outcome = await onlyUserErrors(() => readShards(shards));
        if (outcome === 'refused') tally.refused++;
        if (outcome === 'ok') {
          const used = (JSON.parse(await readFile(join(shards, 'index.json'), 'utf8')) as { shards: Array<{ file: string }> }).shards.map((s) => s.file);
          for (const file of used) expect(resolve(shards, file).startsWith(resolve(shards) + sep), file).to.equal(true);
        }
      }),
      { numRuns: RUNS },
    );
    await writeFile(join(shards, 'index.json'), JSON.stringify(index));
  });
  it('replay logs: mutated, truncated and non-replay files are skipped with a one-line reason; imported decisions are sound', async () => {
    const folder = join(dir, 'replays');
    const seen = { battles: 0, skipped: 0, decisions: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(replayFile(replayLogs.length), { minLength: 1, maxLength: 4 }), async (files) => {
        await rm(folder, { recursive: true, force: true });
        const names = await writeReplays(folder, files, replayLogs);
        tally.cases++;
        const result = checkImport(await importer.run(names.map((n) => join(folder, n))), names);
        if (result.skipped) tally.refused++;
        seen.battles += result.battles;
        seen.skipped += result.skipped;
        seen.decisions += result.decisions.length;
      }),
      // Cheap (a few ms a case), so twice the runs of the other properties.
      { numRuns: RUNS * 2 },
    );
    // Both paths were taken: files imported (decisions checked) and files skipped (reasons checked).
    expect(seen.battles).to.be.greaterThan(0);
    expect(seen.decisions).to.be.greaterThan(0);
    expect(seen.skipped).to.be.greaterThan(0);
  });

  it('replay logs: poke data import exits 0, or 2 with one line when nothing imports; no stack trace; writes only --out', async () => {
    const root = join(dir, 'import-cli');
    await mkdir(root, { recursive: true });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(replayFile(replayLogs.length), { minLength: 1, maxLength: 3 }), async (files) => {
        const cwd = join(root, String(run++));
        const names = await writeReplays(cwd, files, replayLogs);
        const expected = checkImport(await importer.run(names.map((n) => join(cwd, n))), names);
        const before = await snapshot(dir);
        tally.cases++;
        const child = start(['data', 'import', ...names, '--out', 'out'], cwd);
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        const r = await child.result.finally(() => clearTimeout(timer));
        expect(r.signal, 'poke data import did not finish within 120 s (a hang)').to.equal(null);
        const output = r.stdout + r.stderr;
        expect(output, 'a stack trace').to.not.match(/^\s+at /m);
        expect(output).to.not.include('internal error');
        // Nothing changed under the test folder except the new out/ folder.
        const outPrefix = `${relative(dir, join(cwd, 'out'))}/`;
        expect((await snapshot(dir)).filter((p) => !p.startsWith(outPrefix))).to.deep.equal(before);
        if (expected.battles > 0) {
          expect(r.code, r.stderr).to.equal(0);
          expect(r.stdout).to.include(`imported ${expected.battles} battles, ${expected.decisions.length} decisions`);
          if (expected.skipped) expect(r.stdout).to.include(`\nskipped ${expected.skipped} file(s); first: ${expected.firstSkipReason}\n`);
          else expect(r.stdout).to.not.include('skipped');
          expect((await readShards(join(cwd, 'out'))).size).to.equal(expected.decisions.length);
        } else {
          tally.refused++;
          expect(r.code, r.stderr).to.equal(2);
          expect(r.stdout).to.equal('');
          const lines = r.stderr.split('\n').filter((l) => l && !/^files \d+\/\d+$/.test(l));
          expect(lines).to.deep.equal([`poke: no replay could be imported: ${expected.skipped} skipped; first: ${expected.firstSkipReason}`]);
          expect((await snapshot(dir)).some((p) => p.startsWith(outPrefix))).to.equal(false);
        }
      }),
      {
        numRuns: Math.max(4, Math.ceil(RUNS / 12)),
        examples: [
          // Nothing importable: exit 2.
          [[
            { name: 'no log ☕.json', source: { kind: 'json-log-not-a-string', log: 42 } },
            { name: 'half a battle.log', source: { kind: 'log', log: 0, mutations: [{ kind: 'truncateChar', at: 2000 }], json: false } },
          ]],
          // A good spectator replay under a name with spaces and non-ASCII letters, next to a bad one.
          [[
            { name: 'my replay (1) é😀.json', source: { kind: 'log', log: 1, mutations: [], json: true } },
            { name: 'bad.json', source: { kind: 'json-cut', log: 1, cut: 7 } },
          ]],
        ],
      },
    );
  });
});
