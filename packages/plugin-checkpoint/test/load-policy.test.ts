import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { poke, FAST } from '../../cli/test/helpers.js';
import { tempDir, REPO_ROOT } from './helpers.js';

describe('loadPolicyModel', function () {
  this.timeout(120_000);

  it('works in a fresh process that chose no backend: it chooses as training does', async () => {
    const dir = await tempDir('load-policy');
    const trained = await poke(['train', ...FAST, '--set', 'train.epochs=1', '--no-progress', '-n', 'r', '--plugin', 'checkpoint'], dir);
    expect(trained.code, trained.stderr).to.equal(0);
    // A program of a user's own: nothing but the import and the call.
    const script = `
      const tf = await import('@tensorflow/tfjs-core');
      const { loadPolicyModel } = await import('@poke/plugin-checkpoint');
      const model = await loadPolicyModel(${JSON.stringify(join(dir, 'runs', 'r', 'checkpoints', 'latest'))});
      console.log(JSON.stringify({ input: model.inputs[0].shape, backend: tf.getBackend() }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(REPO_ROOT, 'packages', 'plugin-checkpoint'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(result.input).to.deep.equal([null, 64]);
    expect(['tensorflow', 'wasm', 'cpu']).to.include(result.backend);
  });
});
