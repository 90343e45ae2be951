import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { poke, tempDir, FAST, REPO_ROOT } from './helpers.js';
import { makeTempDir } from '../../../test/temp-dirs.js';

/**
 * Third-party plugins as docs/plugins.md shows them, through the real binary:
 * these tests spawn `poke` without tsx, as a user runs it. The in-process tests
 * run under `--import=tsx`, which would load any .ts file and hide a loader gap.
 */

const EXAMPLE_PLUGIN = join(REPO_ROOT, 'examples', 'plugins', 'jsonl-logger.ts');
const ONE_EPOCH = [...FAST, '--set', 'train.epochs=1'];

async function jsonLines(path: string): Promise<Array<{ step: number }>> {
  return (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { step: number });
}

async function files(dir: string, tree: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(tree)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

/** A folder outside the repo, so nothing resolves through the repo's node_modules. */
async function outsideDir(prefix: string): Promise<string> {
  return makeTempDir(`poke-${prefix}-`);
}

function npm(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('third-party plugins through the poke binary', () => {
  describe('a poke.config.ts that imports a .ts plugin (docs/plugins.md)', () => {
    it('trains with the config docs/plugins.md shows, as written', async () => {
      const docs = await readFile(join(REPO_ROOT, 'docs', 'plugins.md'), 'utf8');
      const config = [...docs.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes("from './plugins/jsonl-logger.ts'"));
      expect(config, 'docs/plugins.md shows a poke.config.ts that imports ./plugins/jsonl-logger.ts').to.be.a('string');
      const dir = await tempDir('ts-import');
      await mkdir(join(dir, 'plugins'));
      await copyFile(EXAMPLE_PLUGIN, join(dir, 'plugins', 'jsonl-logger.ts'));
      await writeFile(join(dir, 'poke.config.ts'), config!);
      const result = await poke(['train', ...ONE_EPOCH, '-n', 'a'], dir);
      expect(result.code, result.stderr).to.equal(0);
      const records = await jsonLines(join(dir, 'runs', 'a', 'metrics.jsonl'));
      expect(records.length).to.be.greaterThan(0);
    });

    it('also resolves the TypeScript spelling of the import (./x.js for ./x.ts)', async () => {
      const dir = await tempDir('ts-import-js');
      await mkdir(join(dir, 'plugins'));
      await copyFile(EXAMPLE_PLUGIN, join(dir, 'plugins', 'jsonl-logger.ts'));
      await files(dir, {
        'poke.config.ts': "import jsonlLogger from './plugins/jsonl-logger.js';\nexport default { plugins: [jsonlLogger()] };\n",
      });
      const result = await poke(['train', ...ONE_EPOCH, '-n', 'a'], dir);
      expect(result.code, result.stderr).to.equal(0);
      expect(existsSync(join(dir, 'runs', 'a', 'metrics.jsonl'))).to.equal(true);
    });
  });

  describe('a plugin in its own folder outside the repo, @poke/core as a peer dependency', () => {
    let root: string;
    before(async () => {
      root = await outsideDir('ext');
      await files(root, {
        'acme-hello/package.json': JSON.stringify({
          name: 'poke-plugin-acme-hello',
          version: '1.0.0',
          type: 'module',
          exports: './index.js',
          peerDependencies: { '@poke/core': '^0.1.0' },
        }),
        'acme-hello/index.js': [
          "import { writeFile } from 'node:fs/promises';",
          "import { join } from 'node:path';",
          "import { Trainer, validatePluginOptions } from '@poke/core';",
          "import * as tf from '@tensorflow/tfjs-core';",
          '',
          "const PLUGIN_NAME = 'acme:hello';",
          "const schema = { type: 'object', additionalProperties: false, properties: { greeting: { type: 'string', default: 'hello' } } };",
          '',
          'export default function hello(options) {',
          '  const { greeting } = validatePluginOptions(PLUGIN_NAME, schema, options);',
          '  return {',
          '    name: PLUGIN_NAME,',
          '    apply(trainer) {',
          '      // Only the copy of @poke/core and tfjs that runs the trainer passes these checks.',
          "      if (!(trainer instanceof Trainer)) throw new Error('a second copy of @poke/core was loaded');",
          '      trainer.hooks.done.tapPromise(PLUGIN_NAME, ({ runDir }) =>',
          "        writeFile(join(runDir, 'hello.json'), JSON.stringify({ greeting, backend: tf.getBackend() })),",
          '      );',
          '    },',
          '  };',
          '}',
          '',
        ].join('\n'),
        // Had the plugin installed its own @poke/core (a dev dependency, say), this one must not load.
        'acme-hello/node_modules/@poke/core/package.json': JSON.stringify({ name: '@poke/core', version: '0.1.0', type: 'module', exports: './index.js' }),
        'acme-hello/node_modules/@poke/core/index.js': "throw new Error('the plugin\\'s own copy of @poke/core was loaded');\n",
      });
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    for (const [how, spec] of [
      ['its folder', '../acme-hello'],
      ['its entry file', '../acme-hello/index.js'],
    ] as const) {
      it(`loads by ${how} from a config and shares the host's @poke/core and tfjs`, async () => {
        const project = join(root, `project-${how.replace(/\W/g, '')}`);
        await files(project, { 'poke.config.json': JSON.stringify({ plugins: [[spec, { greeting: 'hi' }]] }) });
        const result = await poke(['train', ...ONE_EPOCH, '-n', 'a'], project);
        expect(result.code, result.stderr).to.equal(0);
        expect(JSON.parse(await readFile(join(project, 'runs', 'a', 'hello.json'), 'utf8'))).to.deep.equal({ greeting: 'hi', backend: 'cpu' });
      });
    }

    it('loads from --plugin, and from a poke.config.ts outside any project', async () => {
      const project = join(root, 'project-ts');
      await files(project, {
        'poke.config.ts': "import { defineConfig } from '@poke/core';\nimport hello from '../acme-hello/index.js';\nexport default defineConfig({ plugins: [hello({ greeting: 'from ts' })] });\n",
      });
      const result = await poke(['train', ...ONE_EPOCH, '-n', 'a', '--plugin', `${join(root, 'acme-hello')}={"greeting":"from cli"}`], project);
      expect(result.code, result.stderr).to.equal(0);
      // Both instances wrote; the --plugin one came last.
      expect(JSON.parse(await readFile(join(project, 'runs', 'a', 'hello.json'), 'utf8')).greeting).to.equal('from cli');
    });

    it('reports bad options with the plugin name and the option path', async () => {
      const project = join(root, 'project-bad');
      await mkdir(project, { recursive: true });
      const result = await poke(['train', ...ONE_EPOCH, '--plugin', `${join(root, 'acme-hello')}={"greting":"x"}`], project);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr.trim().split('\n').at(-1)).to.equal('poke: plugin acme:hello: unknown key "greting" in options (did you mean "greeting"?); known keys: greeting');
    });
  });

  describe('poke init --plugin', () => {
    it('writes a plugin package whose test passes at once, and that poke train loads', async () => {
      // Inside the clone: the package's own `npm test` finds mocha, tsx and typescript in the
      // clone's node_modules, as after its `npm install`. Its package.json bounds config search.
      const root = join(REPO_ROOT, '.cache', 'test-tmp');
      await mkdir(root, { recursive: true });
      const dir = await mkdtemp(join(root, 'init-plugin-'));
      await writeFile(join(dir, 'package.json'), '{ "name": "poke-test", "private": true, "type": "module" }\n');
      const init = await poke(['init', '--plugin', 'best-tracker'], dir);
      expect(init.code, init.stderr).to.equal(0);
      const folder = join(dir, 'poke-plugin-best-tracker');
      expect((await readdir(folder)).sort()).to.deep.equal(['README.md', 'package.json', 'src', 'test', 'tsconfig.json']);
      const pkg = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8'));
      expect(pkg.name).to.equal('poke-plugin-best-tracker');
      expect(pkg.peerDependencies).to.have.property('@poke/core');

      const test = await npm(['test'], folder);
      expect(test.code, test.output).to.equal(0);
      expect(test.output).to.match(/# pass [1-9]/).and.match(/# fail 0/);
      const types = await npm(['run', 'typecheck'], folder);
      expect(types.code, types.output).to.equal(0);

      const train = await poke(['train', ...ONE_EPOCH, '-n', 'a', '--plugin', './poke-plugin-best-tracker'], dir);
      expect(train.code, train.stderr).to.equal(0);
      const best = JSON.parse(await readFile(join(dir, 'runs', 'a', 'best.json'), 'utf8'));
      expect(best).to.include({ monitor: 'val_loss', epoch: 0 });
      expect(best.value).to.be.a('number');

      const again = await poke(['init', '--plugin', 'best-tracker'], dir);
      expect(again.code).to.equal(2);
      expect(again.stderr).to.include('already exists (pass --force to overwrite it)');
    });

    it('refuses a name that is not a package name', async () => {
      const dir = await tempDir('init-plugin-bad');
      const result = await poke(['init', '--plugin', 'Bad Name'], dir);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/^poke: --plugin "Bad Name": /);
      expect(await readdir(dir)).to.deep.equal(['package.json']);
    });
  });
});
