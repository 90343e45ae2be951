import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke } from '../../cli/test/helpers.js';
import { makeTempDir } from '../../../test/temp-dirs.js';

/** A run folder with only run.json and this metrics.csv. */
async function runWithCsv(runs: string, name: string, csv: string): Promise<string> {
  const dir = join(runs, name);
  await mkdir(dir, { recursive: true });
  const now = '2026-01-01T00:00:00.000Z';
  await writeFile(join(dir, 'run.json'), JSON.stringify({ id: name, name, status: 'completed', createdAt: now, updatedAt: now }));
  await writeFile(join(dir, 'metrics.csv'), csv);
  return dir;
}

/** A metrics.csv damaged on one line each way: a stray quote, and unquoted garbage; the rows around them are good. */
const DAMAGED = [
  'step,epoch,timestamp,loss,val_loss',
  '10,0,2026-01-01T00:00:01.000Z,1.5,1.4',
  '20,0,2026-01-01T00:00:02.000Z,1.2,"1.1',
  '30,1,2026-01-01T00:00:03.000Z,1.0,0.9',
  'garbage here',
  '40,1,2026-01-01T00:00:04.000Z,0.8,0.7',
  '',
].join('\n');

describe('poke compare with a damaged metrics.csv', () => {
  it('skips the bad lines with one warning, ranks and plots from the rest', async () => {
    const root = await makeTempDir('poke-compare-damaged-');
    const runs = join(root, 'runs');
    await runWithCsv(runs, 'damaged', DAMAGED);
    await runWithCsv(runs, 'clean', 'step,epoch,timestamp,val_loss\n10,0,t,1.0\n20,0,t,0.8\n');

    const json = await poke(['compare', 'runs', '--json'], root);
    expect(json.code, json.stderr).to.equal(0);
    const rows = JSON.parse(json.stdout) as Array<{ name: string; value: number | null; valueStep: number | null; reason: string | null }>;
    const damaged = rows.find((r) => r.name === 'damaged')!;
    expect(damaged.reason).to.equal(null);
    expect([damaged.value, damaged.valueStep]).to.deep.equal([0.7, 40]);
    expect(rows.map((r) => r.name)).to.deep.equal(['damaged', 'clean']);
    const warnings = json.stderr.split('\n').filter((l) => l.includes('metrics.csv'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/damaged[/\\]metrics\.csv: skipped 2 unreadable lines \(line 3: bad quoting; line 5: no numeric step\)/);

    const plot = await poke(['compare', 'runs', '--plot'], root);
    expect(plot.code, plot.stderr).to.equal(0);
    expect(plot.stdout).to.not.include('no run has');
    expect(plot.stdout).to.include('val_loss over steps');
    expect(plot.stdout).to.include('1. damaged   2. clean');
  });
});
