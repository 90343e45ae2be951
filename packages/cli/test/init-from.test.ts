import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { poke, tempDir, FAST } from './helpers.js';

/** `poke train --init-from`: a new run from another run's weights, through the binary. */

const ONE = [...FAST, '--set', 'train.epochs=1', '--plugin', 'checkpoint', '--no-progress'];
/** Adam with this step size moves no float32 weight: the fine-tuned run's weights stay its parent's. */
const FROZEN = ['--set', 'train.learningRate=1e-30'];

async function json<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

describe('poke train --init-from', () => {
  let dir: string;
  let parentBest: string;
  let parentId: string;

  before(async () => {
    dir = await tempDir('init-from');
    const parent = await poke(['train', ...ONE, '-n', 'r1'], dir);
    expect(parent.code, parent.stderr).to.equal(0);
    parentBest = basename(realpathSync(join(dir, 'runs', 'r1', 'checkpoints', 'best')));
    parentId = (await json<{ id: string }>(join(dir, 'runs', 'r1', 'run.json'))).id;
  });

  it('starts a new run from the parent\'s best checkpoint and records the parent in run.json and checkpoint metadata', async () => {
    const result = await poke(['train', ...ONE, ...FROZEN, '-n', 'ft', '--init-from', 'runs/r1'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include(`init: weights from run r1, checkpoint ${parentBest}`);
    const info = await json<{ parent: Record<string, unknown>; progress: { globalStep: number } }>(join(dir, 'runs', 'ft', 'run.json'));
    expect(info.parent).to.deep.include({ runId: parentId, runName: 'r1', checkpoint: parentBest, optimizer: false });
    expect(info.progress.globalStep).to.equal(9);
    const latest = join(dir, 'runs', 'ft', 'checkpoints', 'latest');
    expect((await json<{ parent: Record<string, unknown> }>(join(latest, 'metadata.json'))).parent).to.deep.include({ runId: parentId, checkpoint: parentBest });
    const parentWeights = await readFile(join(dir, 'runs', 'r1', 'checkpoints', parentBest, 'weights.bin'));
    expect((await readFile(join(latest, 'weights.bin'))).equals(parentWeights)).to.equal(true);
    // Without --init-optimizer Adam starts fresh: its step count is this run's alone.
    expect((await json<{ iterations: number }>(join(latest, 'optimizer.json'))).iterations).to.equal(9);
  });

  it('takes a checkpoint folder, a run name, and the optimizer\'s state with --init-optimizer', async () => {
    const first = (await readdir(join(dir, 'runs', 'r1', 'checkpoints'))).find((n) => n.startsWith('epoch'))!;
    const result = await poke(['train', ...ONE, '-n', 'ft-opt', '--init-from', `runs/r1/checkpoints/${first}`, '--init-optimizer'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include(`init: weights and optimizer state from run r1, checkpoint ${first}`);
    const latest = join(dir, 'runs', 'ft-opt', 'checkpoints', 'latest');
    expect((await json<{ iterations: number }>(join(latest, 'optimizer.json'))).iterations).to.equal(18);
    const byName = await poke(['train', ...ONE, '-n', 'ft-name', '--init-from', 'r1'], dir);
    expect(byName.code, byName.stderr).to.equal(0);
    expect((await json<{ parent: { runName: string } }>(join(dir, 'runs', 'ft-name', 'run.json'))).parent.runName).to.equal('r1');
  });

  it('poke compare shows the lineage, in the table and in --json', async () => {
    const table = await poke(['compare', 'runs'], dir);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/\bfrom\b/);
    expect(table.stdout).to.match(new RegExp(`ft\\s+r1@${parentBest}`));
    const asJson = await poke(['compare', 'runs', '--json'], dir);
    const rows = JSON.parse(asJson.stdout) as Array<{ name: string; parent: unknown }>;
    expect(rows.find((r) => r.name === 'ft')!.parent).to.deep.equal({ run: 'r1', runId: parentId, checkpoint: parentBest });
    expect(rows.find((r) => r.name === 'r1')!.parent).to.equal(null);
  });

  it('refuses a model of another shape with the layer names, exit 2, and creates no run folder', async () => {
    const result = await poke(['train', ...ONE, '--set', 'model.hiddenSizes=[8]', '-n', 'ft-bad', '--init-from', 'runs/r1'], dir);
    expect(result.code, result.stderr).to.equal(2);
    const last = result.stderr.trim().split('\n').at(-1)!;
    expect(last).to.match(/^poke: .*--init-from runs\/r1: checkpoint epoch\d+-step\d+ does not fit this run's model: hidden_0\/kernel: checkpoint \[64,16\], model \[64,8\]; hidden_0\/bias/);
    expect(await readdir(join(dir, 'runs'))).to.not.include('ft-bad');
  });

  it('refuses what it cannot use, in one line with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--init-from', 'runs/nosuch'], /^poke: .*--init-from runs\/nosuch: not a checkpoint folder, a run folder with checkpoints, or a run name/],
      [['--init-from', 'runs/r1', '--resume'], /^poke: --init-from starts a new run and --resume continues one/],
      [['--init-optimizer'], /^poke: --init-optimizer needs --init-from/],
    ];
    for (const [flags, message] of cases) {
      const result = await poke(['train', ...ONE, '-n', 'ft-x', ...flags], dir);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr.trim().split('\n').at(-1)).to.match(message);
    }
    expect(await readdir(join(dir, 'runs'))).to.not.include('ft-x');
  });
});
