import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, resolveConfig } from '@poke/core';
import { coreConfigSchema, optionRows } from '@poke/core/internal';
import { configKeyTable, TABLE_START, TABLE_END } from '../src/config-keys.js';
import { STARTER_CONFIG } from '../src/project-template.js';
import { REPO_ROOT } from './helpers.js';
import { makeProjectDir } from '../../../test/temp-dirs.js';

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
      const dir = await makeProjectDir('poke-test-init-defaults-');
      await writeFile(join(dir, 'poke.config.ts'), text.replace(/plugins: \[.*\]/, 'plugins: []'));
      const { config } = await resolveConfig(await loadConfig({ cwd: dir }));
      return { ...config, configFile: undefined };
    };
    expect(await resolve(uncommented)).to.deep.equal(await resolve(STARTER_CONFIG));
    for (const key of Object.keys(coreConfigSchema.properties)) expect(STARTER_CONFIG, `poke init shows ${key}`).to.match(new RegExp(`\\b${key}: `));
  });
});

/** Each markdown table in `text`: its rows as cells, the header left out. */
function tables(text: string): string[][][] {
  const blocks = text.split(/\n(?!\|)/).map((block) => block.split('\n').filter((line) => line.startsWith('|')));
  return blocks.filter((rows) => rows.length > 2).map((rows) => rows.slice(2).map((row) => row.split('|').slice(1, -1).map((cell) => cell.trim())));
}

/** The first word of a default cell, as a value: `"epoch"`, `1`, `gen9randombattle`, `[]`. */
function shownDefault(cell: string): string {
  return (/^`([^`]*)`/.exec(cell)?.[1] ?? cell.split(/[\s,(]/)[0]!).trim();
}

describe("the plugins' option tables in docs/ agree with their schemas", () => {
  const PLUGIN_TABLES: Array<[string, string, () => Promise<object>]> = [
    ['checkpoints.md', 'checkpoint', async () => (await import('@poke/plugin-checkpoint')).checkpointOptionsSchema],
    ['checkpoints.md', 'retention', async () => (await import('@poke/plugin-retention')).retentionOptionsSchema],
    ['logging.md', 'csv', async () => (await import('@poke/plugin-csv')).csvOptionsSchema],
    ['logging.md', 'mlflow', async () => (await import('@poke/plugin-mlflow')).mlflowOptionsSchema],
    ['logging.md', 'wandb', async () => (await import('@poke/plugin-wandb')).wandbOptionsSchema],
    ['logging.md', 'tensorboard', async () => (await import('@poke/plugin-tensorboard')).tensorboardOptionsSchema],
    ['storage.md', 'storage', async () => (await import('@poke/plugin-storage')).storageOptionsSchema],
    ['compare.md', 'compare', async () => (await import('@poke/plugin-compare')).comparePluginSchema],
    ['showdown.md', 'showdown source', async () => (await import('@poke/showdown')).showdownSourceSchema],
  ];
  for (const [file, name, schemaOf] of PLUGIN_TABLES) {
    it(`${name} (docs/${file}): the same keys, and the schema's defaults`, async () => {
      // The core's own keys in a source's schema are documented with the config.
      const rows = optionRows(await schemaOf()).filter((row) => row.key !== 'source' && row.key !== 'valFraction');
      const keys = rows.map((row) => row.key);
      const docTables = tables(await readFile(join(REPO_ROOT, 'docs', file), 'utf8'));
      const documented = (table: string[][]) => table.flatMap(([cell]) => [...cell!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
      const overlap = (t: string[][]) => documented(t).filter((key) => keys.includes(key)).length;
      const table = [...docTables].sort((a, b) => overlap(b) - overlap(a)).find((t) => overlap(t) > 0);
      expect(table, `docs/${file} has a table of ${name}'s options`).to.not.equal(undefined);
      expect(documented(table!).sort(), `docs/${file}: ${name}'s options`).to.deep.equal([...keys].sort());
      for (const row of rows.filter((r) => r.hasDefault)) {
        const cell = table!.find(([key]) => key!.includes(`\`${row.key}\``))![1]!;
        const value = shownDefault(cell);
        const expected = [JSON.stringify(row.value), ...(typeof row.value === 'string' ? [row.value] : [])];
        expect(expected, `docs/${file}: default of ${name}'s ${row.key} is ${cell}`).to.include(value);
      }
    });
  }
});
