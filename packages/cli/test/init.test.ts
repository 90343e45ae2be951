import { expect } from 'chai';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '@poke/core';
import { configAsRecorded } from '@poke/core/internal';
import { builtInDefault } from '../src/defaults.js';
import { PROJECT_PACKAGES } from '../src/project-template.js';
import { poke } from './helpers.js';
import { makeTempDir } from '../../../test/temp-dirs.js';

/** An empty folder outside the clone (the helpers' tempDir is already a project). */
const tempDir = (prefix: string) => makeTempDir(`poke-test-${prefix}-`);

/** `poke init` writes a project whose config is the built-in default, through the binary. */
describe('poke init', () => {
  it('in an empty folder writes package.json, poke.config.ts and tsconfig.json', async () => {
    const dir = await tempDir('init-empty');
    const result = await poke(['init'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect((await readdir(dir)).sort()).to.deep.equal(['package.json', 'poke.config.ts', 'tsconfig.json']);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { type: string; dependencies: Record<string, string> };
    expect(pkg.type).to.equal('module');
    expect(Object.keys(pkg.dependencies).sort()).to.deep.equal([...PROJECT_PACKAGES].sort());
    for (const range of Object.values(pkg.dependencies)) expect(range).to.match(/^\^\d+\.\d+\.\d+$/);
    JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8'));
    expect(result.stderr).to.include('next: npm install, then npx poke train');
  });

  it('writes a poke.config.ts that resolves to the same config as running with no config', async () => {
    const dir = await tempDir('init-default');
    expect((await poke(['init'], dir)).code).to.equal(0);
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).to.equal(join(dir, 'poke.config.ts'));
    const fallback = builtInDefault();
    expect(fallback.user.data, 'this checkout has @poke/showdown installed').to.deep.equal({ source: 'showdown', battles: 300 });
    expect(configAsRecorded(loaded.user)).to.deep.equal(configAsRecorded(fallback.user));
  });

  it('in an existing project writes only poke.config.ts', async () => {
    const dir = await tempDir('init-existing');
    await writeFile(join(dir, 'package.json'), '{"name":"mine","private":true}\n');
    const result = await poke(['init'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect((await readdir(dir)).sort()).to.deep.equal(['package.json', 'poke.config.ts']);
    expect(await readFile(join(dir, 'package.json'), 'utf8')).to.equal('{"name":"mine","private":true}\n');
  });

  it('refuses to overwrite without --force, and tarballs that are not there, in one line with exit 2', async () => {
    const dir = await tempDir('init-again');
    expect((await poke(['init'], dir)).code).to.equal(0);
    const again = await poke(['init'], dir);
    expect(again.code).to.equal(2);
    expect(again.stderr.trim()).to.match(/^poke: .*already exists \(pass --force to overwrite it\)$/);
    expect((await poke(['init', '--force'], dir)).code).to.equal(0);
    const empty = await tempDir('init-tarballs');
    const missing = await poke(['init', '--tarballs', 'packs'], empty);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim()).to.match(/^poke: --tarballs packs: no tarball for @poke\/cli, /);
    expect(await readdir(empty)).to.deep.equal([]);
  });
});
