import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { poke, tempDir, FAST, POKE_BIN } from './helpers.js';
import { requireNativeTensorflow } from '../../../test/requirements.js';

/**
 * `poke …` in a shell pipeline (`poke … 2>&1 | cat`), so stderr is a pipe as in a
 * terminal user's `| tee`; Node's own 'pipe' stdio would hand the child a socket.
 */
function pokeThroughShellPipe(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn('sh', ['-c', '"$@" 2>&1 | cat', 'sh', process.execPath, POKE_BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** What `poke train` prints, through the binary as a user runs it. */
describe('poke train output', () => {
  it('an unknown plugin name suggests the installed one it is closest to', async () => {
    const dir = await tempDir('typo');
    const result = await poke(['train', ...FAST, '--plugin', 'mlfow'], dir);
    expect(result.code, result.stderr).to.equal(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).to.match(/^poke: plugin "mlfow" not found: .* \(did you mean "mlflow"\?\)$/);
  });

  it('--no-progress keeps one line per epoch and the summary (for log files)', async () => {
    const dir = await tempDir('noprogress');
    const result = await poke(['train', ...FAST, '--set', 'train.epochs=2', '-n', 'quiet', '--no-progress'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/^epoch 1\/2  step \d+  train_loss /m);
    expect(result.stderr).to.match(/^epoch 2\/2  step \d+  train_loss /m);
    expect(result.stderr).to.match(/^run completed: .*quiet \(2 epochs, /m);
  });

  describe('on the native tensorflow backend', () => {
    before(function () {
      requireNativeTensorflow(this);
    });

    const chatter = /absl::InitializeLog|oneDNN|cpu_feature_guard/;
    const args = ['train', ...FAST.filter((a) => a !== '--backend' && a !== 'cpu'), '--backend', 'tensorflow', '--set', 'train.epochs=1', '--no-progress'];

    it("TensorFlow's start-up lines stay off stderr", async () => {
      const dir = await tempDir('tfquiet');
      // spawn leaves out variables whose value is undefined: the user did not set it.
      const result = await pokeThroughShellPipe([...args, '-n', 'quiet'], dir, { TF_CPP_MIN_LOG_LEVEL: undefined });
      expect(result.code, result.output).to.equal(0);
      expect(result.output).to.include('backend: tensorflow');
      expect(result.output).to.not.match(chatter);
      expect(result.output).to.match(/^run completed: /m);
    });

    it('TF_CPP_MIN_LOG_LEVEL set by the user lets them through', async () => {
      const dir = await tempDir('tfchatty');
      const result = await pokeThroughShellPipe([...args, '-n', 'chatty'], dir, { TF_CPP_MIN_LOG_LEVEL: '0' });
      expect(result.code, result.output).to.equal(0);
      expect(result.output).to.match(chatter);
    });
  });
});
