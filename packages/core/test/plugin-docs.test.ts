import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Trainer, resolveConfig, silentLogger } from '@poke/core';
import { createTrainerHooks } from '@poke/core/internal';
import { REPO_ROOT, smallConfig, tempDir } from './helpers.js';

/** docs/plugins.md states facts about the trainer a plugin author relies on; keep them true. */

const DOC = join(REPO_ROOT, 'docs', 'plugins.md');

/** The rows of the markdown table under `heading`, as cells. */
function tableUnder(text: string, heading: string): string[][] {
  const start = text.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/plugins.md has a "## ${heading}" section`).to.be.greaterThan(-1);
  const section = text.slice(start + 1).split(/\n## /)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

const KIND: Record<string, string> = { SyncHook: 'sync', AsyncSeriesHook: 'async series', AsyncSeriesBailHook: 'async series bail' };

describe('docs/plugins.md', () => {
  it('lists every hook of the trainer as sync or async, as it is', async () => {
    const rows = tableUnder(await readFile(DOC, 'utf8'), 'Sync and async hooks');
    const documented = Object.fromEntries(rows.map(([name, kind]) => [name!.replace(/`/g, ''), kind]));
    const actual = Object.fromEntries(Object.entries(createTrainerHooks()).map(([name, hook]) => [name, KIND[(hook as object).constructor.name]]));
    expect(documented).to.deep.equal(actual);
  });

  it('names only trainer members that exist', async () => {
    const rows = tableUnder(await readFile(DOC, 'utf8'), 'What a plugin may use on the trainer');
    const members = rows.map(([cell]) => /^`(\w+)/.exec(cell!)![1]!);
    expect(members).to.include.members(['logger', 'stop', 'config', 'latestMetrics', 'metricNames']);
    const dir = await tempDir('docs');
    const { config } = await resolveConfig({ user: smallConfig(), file: undefined, baseDir: dir });
    const trainer = new Trainer(config, { baseDir: dir, logger: silentLogger });
    for (const member of members) expect(member in trainer, member).to.equal(true);
  });

  it('says that stateKey must be unique', async () => {
    expect(await readFile(DOC, 'utf8')).to.match(/`stateKey` must be unique/);
  });
});
