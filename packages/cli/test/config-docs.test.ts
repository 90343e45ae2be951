import { expect } from 'chai';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, resolveConfig, coreConfigSchema, optionRows } from '@poke/core';
import { configKeyTable, TABLE_START, TABLE_END } from '../src/config-keys.js';
import { STARTER_CONFIG } from '../src/project-template.js';
import { REPO_ROOT } from './helpers.js';

/** The core's schema is the one definition of the config's keys; what shows them must agree with it. */
describe('config keys, defaults and descriptions come from the schema', () => {
  it("docs/config.md's key table is the one written from the schema (npm run docs:config rewrites it)", async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'config.md'), 'utf8');
    const start = doc.indexOf(TABLE_START);
    const end = doc.indexOf(TABLE_END);
    expect(start, 'docs/config.md has the marks around its key table').to.be.greaterThan(-1);
    expect(doc.slice(start + TABLE_START.length, end).trim(), 'run npm run docs:config').to.equal(configKeyTable());
  });

  it('the table has a row for every key of the schema, with its default and description', () => {
    const table = configKeyTable();
    for (const row of optionRows(coreConfigSchema)) {
      expect(table).to.include(`| \`${row.key}\` |`);
      if (row.hasDefault) expect(table).to.include(`| \`${row.key}\` | \`${JSON.stringify(row.value).replace(/,/g, ', ')}\` |`);
      if (row.description) expect(table).to.include(row.description);
    }
  });

  it("poke init's commented defaults are the schema's: uncommented, they resolve to the same config", async () => {
    const uncommented = STARTER_CONFIG.replace(/^ {2}\/\/ (runsDir|seed|model|train): (.*?),( +\/\/.*)?$/gm, '  $1: $2,').replace('/* , valFraction: 0.1 */', ', valFraction: 0.1');
    expect(uncommented.match(/^ {2}(runsDir|seed|model|train):/gm), 'every commented default was found').to.have.length(4);
    const resolve = async (text: string) => {
      const dir = await mkdtemp(join(tmpdir(), 'poke-test-init-defaults-'));
      await writeFile(join(dir, 'package.json'), '{ "name": "poke-test", "private": true, "type": "module" }\n');
      await writeFile(join(dir, 'poke.config.ts'), text.replace(/plugins: \[.*\]/, 'plugins: []'));
      const { config } = await resolveConfig(await loadConfig({ cwd: dir }));
      return { ...config, configFile: undefined };
    };
    expect(await resolve(uncommented)).to.deep.equal(await resolve(STARTER_CONFIG));
    for (const key of Object.keys(coreConfigSchema.properties)) expect(STARTER_CONFIG, `poke init shows ${key}`).to.match(new RegExp(`\\b${key}: `));
  });
});
