import { expect } from 'chai';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke, tempDir, FAST } from './helpers.js';

/** `poke train --resume` continues with the run's own config.json, through the binary. */

const ONE = [...FAST, '--no-progress'];

async function config(dir: string, value: object): Promise<void> {
  await writeFile(join(dir, 'poke.config.json'), JSON.stringify(value));
}

async function recorded(dir: string, run: string): Promise<{ train: Record<string, unknown>; model: Record<string, unknown>; plugins: unknown[] }> {
  return JSON.parse(await readFile(join(dir, 'runs', run, 'config.json'), 'utf8'));
}

/** Every file under `dir` with its size and mtime: a refused command must change none of them. */
async function fingerprint(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const s = await stat(path);
    out.push(`${path} ${entry.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

/** A plugin that writes the `token` option it was given into the run folder. */
const ECHO_PLUGIN = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default (options = {}) => ({
  name: 'test:echo',
  apply(trainer) {
    trainer.hooks.setup.tap('test:echo', (context) => {
      writeFileSync(join(context.runDir, 'token-seen.txt'), String(options.token));
    });
  },
});
`;

describe('poke train --resume uses the run\'s own config', () => {
  it('ignores a config file edited since the run started, shows the diff, and applies only this command\'s --set', async () => {
    const dir = await tempDir('resume-own');
    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint'] });
    expect((await poke(['train', ...ONE, '-n', 'r1'], dir)).code).to.equal(0);
    await config(dir, { train: { epochs: 1, learningRate: 0.5 }, model: { dropout: 0.3 }, plugins: ['checkpoint', 'csv'] });
    const resumed = await poke(['train', ...ONE, '-n', 'r1', '--resume', '--set', 'train.epochs=2'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.include("differs from the run's config and is ignored (pass --use-current-config to apply it)");
    expect(resumed.stderr).to.include('train.learningRate: 0.001 → 0.5');
    expect(resumed.stderr).to.include('model.dropout: 0.1 → 0.3');
    expect(resumed.stderr).to.include('plugins: ["checkpoint"] → ["checkpoint","csv"]');
    expect(resumed.stderr).to.include('resumed at epoch 2');
    const saved = await recorded(dir, 'r1');
    expect(saved.train.learningRate).to.equal(0.001);
    expect(saved.train.epochs).to.equal(2);
    expect(saved.model.dropout).to.equal(0.1);
    expect(saved.plugins).to.deep.equal(['checkpoint']);
    expect(await readdir(join(dir, 'runs', 'r1'))).to.not.include('metrics.csv');
  });

  it('applies the current config file with --use-current-config', async () => {
    const dir = await tempDir('resume-current');
    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint'] });
    expect((await poke(['train', ...ONE, '-n', 'r1'], dir)).code).to.equal(0);
    await config(dir, { train: { epochs: 2, learningRate: 0.01 }, plugins: ['checkpoint', 'csv'] });
    const resumed = await poke(['train', ...ONE, '-n', 'r1', '--resume', '--use-current-config'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.include('--use-current-config');
    expect(resumed.stderr).to.include('train.learningRate: 0.001 → 0.01');
    const saved = await recorded(dir, 'r1');
    expect(saved.train.learningRate).to.equal(0.01);
    expect(saved.plugins).to.deep.equal(['checkpoint', 'csv']);
    expect(await readdir(join(dir, 'runs', 'r1'))).to.include('metrics.csv');
  });

  it('refuses a change of the model\'s shape with the diff, exit 2, and leaves the run as it was', async () => {
    const dir = await tempDir('resume-shape');
    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint'] });
    expect((await poke(['train', ...ONE, '-n', 'r1'], dir)).code).to.equal(0);
    const before = await fingerprint(join(dir, 'runs', 'r1'));
    for (const change of [['--set', 'model.hiddenSizes=[8]'], ['--set', 'data={"source":"synthetic","samples":600,"features":20}']]) {
      const refused = await poke(['train', ...ONE, '-n', 'r1', '--resume', ...change], dir);
      expect(refused.code, refused.stderr).to.equal(2);
      const lines = refused.stderr.trim().split('\n');
      expect(lines.at(-1)).to.match(/^poke: --resume: .*r1 cannot continue with a different model shape: (model\.hiddenSizes: \[16\] → \[8\]|data\.features: \(unset\) → 20)/);
      expect(await fingerprint(join(dir, 'runs', 'r1'))).to.deep.equal(before);
    }
    // The same change in the config file is ignored (the run's config wins), so the resume goes on.
    await config(dir, { train: { epochs: 2 }, model: { hiddenSizes: [8] }, plugins: ['checkpoint'] });
    const withoutShapeSet = ['--backend', 'cpu', '--set', 'data={"source":"synthetic","samples":600}', '--set', 'train.batchSize=64', '--no-progress'];
    const ignored = await poke(['train', ...withoutShapeSet, '-n', 'r1', '--resume', '--set', 'train.epochs=2'], dir);
    expect(ignored.code, ignored.stderr).to.equal(0);
    expect(ignored.stderr).to.include('model.hiddenSizes: [16] → [8]');
    expect((await recorded(dir, 'r1')).model.hiddenSizes).to.deep.equal([16]);
  });

  it('never uses a redacted value: a secret comes from the current config, or is left out', async () => {
    const dir = await tempDir('resume-secret');
    await mkdir(join(dir, 'plugins'));
    await writeFile(join(dir, 'plugins', 'echo.mjs'), ECHO_PLUGIN);
    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint', ['./plugins/echo.mjs', { token: 'tok-123' }]] });
    expect((await poke(['train', ...ONE, '-n', 'r1'], dir)).code).to.equal(0);
    const saved = await readFile(join(dir, 'runs', 'r1', 'config.json'), 'utf8');
    expect(saved).to.not.include('tok-123');
    expect(saved).to.include('[redacted]');

    const again = await poke(['train', ...ONE, '-n', 'r1', '--resume', '--set', 'train.epochs=2'], dir);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.include("is redacted in config.json: using the current config's value");
    expect(await readFile(join(dir, 'runs', 'r1', 'token-seen.txt'), 'utf8')).to.equal('tok-123');

    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint', './plugins/echo.mjs'] });
    const without = await poke(['train', ...ONE, '-n', 'r1', '--resume', '--set', 'train.epochs=3'], dir);
    expect(without.code, without.stderr).to.equal(0);
    expect(without.stderr).to.include('is redacted in config.json and the current config has no value: left out');
    expect(await readFile(join(dir, 'runs', 'r1', 'token-seen.txt'), 'utf8')).to.equal('undefined');
  });

  it('--resume auto continues a run with its own config too', async () => {
    const dir = await tempDir('resume-auto');
    await config(dir, { train: { epochs: 1 }, plugins: ['checkpoint'] });
    expect((await poke(['train', ...ONE, '-n', 'job', '--resume', 'auto'], dir)).code).to.equal(0);
    await config(dir, { train: { epochs: 2, learningRate: 0.5 }, plugins: ['checkpoint'] });
    const again = await poke(['train', ...ONE, '-n', 'job', '--resume', 'auto', '--set', 'train.epochs=2'], dir);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.include('train.learningRate: 0.001 → 0.5');
    expect((await recorded(dir, 'job')).train.learningRate).to.equal(0.001);
  });
});
