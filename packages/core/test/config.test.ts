import { expect } from 'chai';
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig, resolveConfig, UserError, Trainer, silentLogger } from '@poke/core';
import type { PokePlugin } from '@poke/core';
import { tempDir, REPO_ROOT, smallConfig } from './helpers.js';

async function userError(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a UserError').to.be.instanceOf(UserError);
  expect((err as Error).message).to.not.include('\n');
  return err as UserError;
}

async function loadFrom(dir: string, overrides = {}) {
  return resolveConfig(await loadConfig({ cwd: dir }), overrides);
}

const EXAMPLE_PLUGIN = join(REPO_ROOT, 'examples', 'plugins', 'jsonl-logger.ts');

describe('config', () => {
  it('loads a typed poke.config.ts with defineConfig and fills defaults', async () => {
    const dir = await tempDir('cfg');
    await writeFile(
      join(dir, 'poke.config.ts'),
      `import { defineConfig } from '@poke/core';\nconst epochs: number = 3;\nexport default defineConfig({ train: { epochs }, model: { hiddenSizes: [32] } });\n`,
    );
    const { config } = await loadFrom(dir);
    expect(config.train).to.deep.equal({ epochs: 3, batchSize: 256, learningRate: 0.001, logEvery: 50, backend: 'auto' });
    expect(config.model).to.deep.equal({ hiddenSizes: [32], activation: 'relu', dropout: 0.1 });
    expect(config.configFile).to.equal(join(dir, 'poke.config.ts'));
    expect(Object.isFrozen(config.train)).to.equal(true);
  });

  for (const [file, text] of [
    ['poke.config.json', '{"train": {"epochs": 4}}'],
    ['.pokerc.yaml', 'train:\n  epochs: 4\n'],
    ['poke.config.mjs', 'export default { train: { epochs: 4 } };'],
    ['package.json', '{"name": "x", "poke": {"train": {"epochs": 4}}}'],
  ] as const) {
    it(`loads ${file}`, async () => {
      const dir = await tempDir('cfg');
      await writeFile(join(dir, file), text);
      const { config } = await loadFrom(dir);
      expect(config.train.epochs).to.equal(4);
    });
  }

  it('takes storage from the config with its defaults, and leaves it out when none is given', async () => {
    const dir = await tempDir('storage');
    await writeFile(join(dir, 'poke.config.json'), '{"storage": {"url": "s3://bucket/runs", "endpoint": "http://127.0.0.1:9000"}}');
    const { config } = await loadFrom(dir);
    expect(config.storage).to.deep.equal({ url: 's3://bucket/runs', endpoint: 'http://127.0.0.1:9000', forcePathStyle: false });
    const other = await tempDir('storage');
    expect((await loadFrom(other)).config.storage).to.equal(undefined);
  });

  it('runs on the built-in default when no config exists', async () => {
    const dir = await tempDir('cfg');
    await writeFile(join(dir, 'package.json'), '{"name": "empty"}');
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).to.equal(undefined);
    const { config } = await resolveConfig(loaded);
    expect(config.data).to.deep.include({ source: 'synthetic', valFraction: 0.1 });
  });

  describe('bad input gives one line naming what is wrong', () => {
    it('unknown key, with a did-you-mean', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"train": {"epoch": 3}}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('poke.config.json').and.include('unknown key "epoch" in train (did you mean "epochs"?)');
    });

    it('unknown top-level key', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"seeed": 3}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('unknown key "seeed" (did you mean "seed"?)');
    });

    it('wrong type, with the JSON path and the expected type', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"train": {"epochs": "five"}}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('train.epochs must be integer, got string "five"');
    });

    it('wrong value in an array, with the index in the path', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"model": {"hiddenSizes": [64, -1]}}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('model.hiddenSizes[1] must be >= 1');
    });

    it('enum value, with the allowed values', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"train": {"backend": "wasn"}}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('train.backend must be one of "auto", "tensorflow", "wasm", "cpu", got string "wasn" (did you mean "wasm"?)');
    });

    it('syntax error in poke.config.ts, with file:line:column', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.ts'), `export default {\n  train: { epochs: 3 ,, },\n};\n`);
      const err = await userError(loadFrom(dir));
      expect(err.message).to.match(/poke\.config\.ts:2:\d+: syntax error: /);
    });

    it('invalid JSON names the file', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"train": ');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('poke.config.json');
    });

    it('a config that throws while evaluating names the file', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.mjs'), `throw new Error('no such env var');\n`);
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('poke.config.mjs').and.include('no such env var');
    });

    it('a storage url that is not s3://bucket/prefix, naming the flag that gave it', async () => {
      const dir = await tempDir('bad');
      const err = await userError(loadFrom(dir, { set: ['storage.url="http://bucket/runs"'], flags: { 'storage.url="http://bucket/runs"': '--storage http://bucket/runs' } }));
      expect(err.message).to.match(/^--storage http:\/\/bucket\/runs: storage\.url must match/);
    });

    it('--set to an unknown key', async () => {
      const dir = await tempDir('bad');
      const err = await userError(loadFrom(dir, { set: ['train.epoks=3'] }));
      expect(err.message).to.equal('--set train.epoks=3: unknown key "epoks" in train (did you mean "epochs"?)');
    });

    it('--set with a wrong type', async () => {
      const dir = await tempDir('bad');
      const err = await userError(loadFrom(dir, { set: ['train.epochs=many'] }));
      expect(err.message).to.include('train.epochs must be integer, got string "many"');
    });

    it('plugin not found, with where it looked', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), '{"plugins": ["nosuch"]}');
      const err = await userError(loadFrom(dir));
      expect(err.message).to.include('plugin "nosuch" not found').and.include('@poke/plugin-nosuch, poke-plugin-nosuch, nosuch').and.include(dir);
      const byPath = await userError(resolveConfig({ user: { plugins: ['./missing.ts'] }, file: undefined, baseDir: dir }));
      expect(byPath.message).to.include(`no file at ${join(dir, 'missing.ts')}`);
    });

    it('plugin options invalid, with the plugin name and option path', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: [[EXAMPLE_PLUGIN, { file: 42 }]] }));
      const err = await userError(loadFrom(dir));
      expect(err.message).to.equal('plugin example:jsonl-logger: options.file must be string, got number 42');
      await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: [[EXAMPLE_PLUGIN, { fil: 'x' }]] }));
      const typo = await userError(loadFrom(dir));
      expect(typo.message).to.include('plugin example:jsonl-logger: unknown key "fil" in options (did you mean "file"?)');
    });

    it('a plugin whose apply throws, with its name', async () => {
      const dir = await tempDir('bad');
      const { config } = await resolveConfig({ user: smallConfig(), file: undefined, baseDir: dir });
      const broken: PokePlugin = {
        name: 'test:explodes',
        apply() {
          throw new Error('cannot open the thing');
        },
      };
      expect(() => new Trainer(config, { plugins: [broken], logger: silentLogger })).to.throw(UserError, 'plugin test:explodes failed in apply: cannot open the thing');
    });

    it('a module that is not a plugin', async () => {
      const dir = await tempDir('bad');
      await writeFile(join(dir, 'not-plugin.mjs'), 'export default 42;');
      const err = await userError(resolveConfig({ user: { plugins: ['./not-plugin.mjs'] }, file: undefined, baseDir: dir }));
      expect(err.message).to.include('default export is not a function');
    });

    it('an unknown data source, with the known ones', async () => {
      const dir = await tempDir('bad');
      const { config } = await resolveConfig({ user: smallConfig({ data: { source: 'showdwn' } }), file: undefined, baseDir: dir });
      const err = await userError(new Trainer(config, { logger: silentLogger, baseDir: dir }).run());
      expect(err.message).to.include('data.source "showdwn" is not a known data source; known: synthetic, shards');
    });

    it('a bad option of the data source, with its path', async () => {
      const dir = await tempDir('bad');
      const { config } = await resolveConfig({ user: smallConfig({ data: { samples: 'lots' } }), file: undefined, baseDir: dir });
      const err = await userError(new Trainer(config, { logger: silentLogger, baseDir: dir }).run());
      expect(err.message).to.include('data.samples must be integer, got string "lots"');
    });
  });

  describe('plugins', () => {
    it('resolve relative paths from the config file folder, as [path, options] pairs', async () => {
      const dir = await tempDir('plug');
      await mkdir(join(dir, 'plugins'));
      await writeFile(join(dir, 'plugins', 'jsonl.ts'), `export { default } from '${relative(join(dir, 'plugins'), EXAMPLE_PLUGIN).replace(/\\.ts$/, '.js')}';\n`);
      await writeFile(
        join(dir, 'poke.config.ts'),
        `import { defineConfig } from '@poke/core';\nexport default defineConfig(${JSON.stringify({ ...smallConfig({ runName: 'p' }), plugins: [['./plugins/jsonl.ts', { file: 'm.jsonl' }]] })});\n`,
      );
      const loaded = await loadConfig({ cwd: dir });
      const { config, plugins } = await resolveConfig(loaded);
      expect(plugins.map((p) => p.name)).to.deep.equal(['example:jsonl-logger']);
      const summary = await new Trainer(config, { plugins, baseDir: loaded.baseDir, logger: silentLogger }).run();
      const lines = (await readFile(join(summary.runDir, 'm.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.length).to.equal(6);
      expect(JSON.parse(lines.at(-1)!).step).to.equal(summary.globalStep);
      const stored = JSON.parse(await readFile(join(summary.runDir, 'config.json'), 'utf8'));
      expect(stored.plugins).to.deep.equal([['./plugins/jsonl.ts', { file: 'm.jsonl' }]]);
    });

    it('accept instances; --no-plugin removes config plugins by name, --plugin adds', async () => {
      const dir = await tempDir('plug');
      const mk = (name: string): PokePlugin => ({ name, apply() {} });
      const loaded = { user: { plugins: [mk('poke:csv'), EXAMPLE_PLUGIN] }, file: undefined, baseDir: dir };
      const all = await resolveConfig(loaded);
      expect(all.plugins.map((p) => p.name)).to.deep.equal(['poke:csv', 'example:jsonl-logger']);
      const without = await resolveConfig(loaded, { removePlugins: ['csv'] });
      expect(without.plugins.map((p) => p.name)).to.deep.equal(['example:jsonl-logger']);
      const withExtra = await resolveConfig(loaded, { addPlugins: [[EXAMPLE_PLUGIN, { file: 'x.jsonl' }]], removePlugins: ['poke:csv'], cwd: dir });
      expect(withExtra.plugins.map((p) => p.name)).to.deep.equal(['example:jsonl-logger', 'example:jsonl-logger']);
      const swapped = await resolveConfig(loaded, { addPlugins: [[EXAMPLE_PLUGIN, { file: 'y.jsonl' }]], removePlugins: ['example:jsonl-logger'], cwd: dir });
      expect(swapped.plugins.map((p) => p.name)).to.deep.equal(['poke:csv', 'example:jsonl-logger']);
      expect(swapped.config.plugins).to.deep.equal([loaded.user.plugins[0], [EXAMPLE_PLUGIN, { file: 'y.jsonl' }]]);
    });
  });
});
