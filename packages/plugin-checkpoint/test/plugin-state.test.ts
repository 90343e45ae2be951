import { expect } from 'chai';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke } from '../../cli/test/helpers.js';
import { tempDir, REPO_ROOT } from './helpers.js';

/**
 * A checkpoint holds every plugin's state as of the step it covers, whatever
 * the order plugins are listed in: `--plugin` always comes after the config's
 * checkpoint plugin, the common case.
 */
const CONFIG = {
  seed: 7,
  data: { source: 'synthetic', samples: 600, features: 12, actions: 5 },
  model: { hiddenSizes: [16] },
  train: { epochs: 3, batchSize: 64, backend: 'cpu' },
  plugins: ['@poke/plugin-checkpoint'],
};

async function project(): Promise<string> {
  const dir = await tempDir('plugin-state');
  await writeFile(join(dir, 'poke.config.json'), JSON.stringify(CONFIG));
  await copyFile(join(REPO_ROOT, 'packages', 'plugin-checkpoint', 'test', 'fixtures', 'best-tracker.mjs'), join(dir, 'best-tracker.mjs'));
  return dir;
}

describe('plugin state in checkpoints', function () {
  this.timeout(120_000);

  it('a plugin listed after the checkpoint plugin has its state saved as of the validation the checkpoint covers', async () => {
    const dir = await project();
    const result = await poke(['train', '--no-progress', '--run-name', 'r', '--plugin', './best-tracker.mjs'], dir);
    expect(result.code, result.stderr).to.equal(0);
    const runDir = join(dir, 'runs', 'r');
    const noted = (await readFile(join(runDir, 'best-tracker.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(noted).to.have.length(3);
    const ids = ['epoch0001-step00000009', 'epoch0002-step00000018', 'epoch0003-step00000027'];
    for (const [i, id] of ids.entries()) {
      const state = JSON.parse(await readFile(join(runDir, 'checkpoints', id, 'state.json'), 'utf8'));
      expect(state.plugins['best-tracker'], id).to.deep.equal({ best: noted[i].best });
    }
  });

  it('two plugins with the same stateKey are refused before anything runs', async () => {
    const dir = await project();
    const result = await poke(['train', '--no-progress', '--run-name', 'r', '--plugin', './best-tracker.mjs', '--plugin', './best-tracker.mjs={"key":"best-tracker"}'], dir);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.include('both use stateKey "best-tracker"');
  });
});
