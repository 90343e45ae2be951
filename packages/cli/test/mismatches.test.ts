import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke, tempDir, FAST } from './helpers.js';
import { REPO_ROOT } from './helpers.js';

/** Places where the docs and the binary disagreed; each checked through `poke`. */
const ONE = [...FAST, '--set', 'train.epochs=1', '--no-progress'];

describe('docs and behaviour agree', () => {
  it('--no-plugin NAME that the config does not enable is refused in one line, exit 2', async () => {
    const dir = await tempDir('no-plugin');
    await writeFile(join(dir, 'poke.config.json'), '{"plugins": ["csv"]}');
    const result = await poke(['train', ...ONE, '--no-plugin', 'nosuch'], dir);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr.trim().split('\n').at(-1)).to.match(/^poke: --no-plugin nosuch: no plugin in the config answers to that name; enabled: csv \(/);
    const removed = await poke(['train', ...ONE, '-n', 'ok', '--no-plugin', 'csv'], dir);
    expect(removed.code, removed.stderr).to.equal(0);
  });

  it('--plugin showdown finds @poke/showdown, as the start-up line names it', async () => {
    const dir = await tempDir('showdown-short');
    const result = await poke(['train', ...ONE, '-n', 's', '--plugin', 'showdown'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.not.include('@poke/plugin-showdown');
  });

  it('the summary line counts in the singular for one epoch', async () => {
    const dir = await tempDir('plural');
    const result = await poke(['train', ...ONE, '-n', 'p'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/\(1 epoch, \d+ steps,/);
  });

  it('a resume that drops one metrics.csv row says "1 row"', async () => {
    const dir = await tempDir('plural-row');
    await writeFile(join(dir, 'poke.config.json'), '{"plugins": ["checkpoint", "csv"]}');
    expect((await poke(['train', ...ONE, '-n', 'r'], dir)).code).to.equal(0);
    // One row past the last checkpoint, as a kill between a record and the next save leaves it.
    const csv = join(dir, 'runs', 'r', 'metrics.csv');
    const lines = (await readFile(csv, 'utf8')).trimEnd().split('\n');
    const last = lines.at(-1)!.split(',');
    await writeFile(csv, [...lines, [String(Number(last[0]) + 1), ...last.slice(1)].join(',')].join('\n') + '\n');
    const resumed = await poke(['train', ...FAST, '--set', 'train.epochs=2', '--no-progress', '-n', 'r', '--resume'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.match(/csv: removed 1 row after step \d+ from /);
  });

  it('a missing shards folder says how to make shards, in one line', async () => {
    const dir = await tempDir('no-shards');
    const result = await poke(['train', ...ONE, '--set', 'data={"source":"shards","path":"./demos"}'], dir);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.match(/shards: no shards at \S*demos .*poke data generate --out/);
    expect(result.stderr).to.not.match(/^\s+at /m);
  });

  it('an option with several accepted shapes names them and the near miss', async () => {
    const dir = await tempDir('one-of');
    const result = await poke(['train', ...ONE, '--plugin', 'checkpoint={"every":{"step":5}}'], dir);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.include('options.every must be "epoch", { steps } or { minutes }, got an object with key "step" (did you mean "steps"?)');
  });

  it('a mistake in --set, --backend or --run-name is blamed on the flag, one in the file on the file', async () => {
    const dir = await tempDir('blame');
    await writeFile(join(dir, 'poke.config.json'), '{"train": {"epochs": 1}}');
    const last = (r: { stderr: string }) => r.stderr.trim().split('\n').at(-1)!;
    const backend = await poke(['train', '--backend', 'gpu'], dir);
    expect(backend.code).to.equal(2);
    expect(last(backend)).to.match(/^poke: --backend gpu: train\.backend must be one of/);
    const set = await poke(['train', '--set', 'train.epochs=-1'], dir);
    expect(last(set)).to.match(/^poke: --set train\.epochs=-1: train\.epochs must be >= 1/);
    const name = await poke(['train', '--run-name', 'a/b'], dir);
    expect(last(name)).to.match(/^poke: --run-name a\/b: runName must match/);
    await writeFile(join(dir, 'poke.config.json'), '{"train": {"epochs": -3}}');
    const file = await poke(['train', '--set', 'train.batchSize=4'], dir);
    expect(last(file)).to.match(/^poke: \S*poke\.config\.json: train\.epochs must be >= 1/);
  });

  it('docs/checkpoints.md lists every checkpoint option, onSaveError included', async () => {
    const { checkpointOptionsSchema } = await import('@poke/plugin-checkpoint');
    const doc = await readFile(join(REPO_ROOT, 'docs', 'checkpoints.md'), 'utf8');
    const options = doc.slice(doc.indexOf('## Options'), doc.indexOf('## Format'));
    for (const key of Object.keys((checkpointOptionsSchema as { properties: object }).properties)) expect(options).to.include(`| \`${key}\` |`);
  });
});
