import { expect } from 'chai';
import fc from 'fast-check';
import { mkdir, writeFile, rm, readdir, readFile, cp } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { loadConfig, resolveConfig, readShards, writeShards, generateSynthetic, isUserError } from '@poke/core';
import { CheckpointManager, readCheckpoint, CheckpointError } from '@poke/plugin-checkpoint';
import { summary, tempDir, poke } from './support.js';

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
});
