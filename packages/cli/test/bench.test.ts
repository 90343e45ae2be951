import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from './helpers.js';

/** `npm run bench -- trainer` as documented: no tracking server, no W&B key, nothing set up. */
describe('bench trainer', function () {
  this.timeout(300_000);

  it('runs with every installed plugin and no setup', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, BENCH_STEPS: '1', BENCH_ROUNDS: '1', BENCH_BACKEND: 'cpu' };
    for (const name of Object.keys(env)) if (/^(MLFLOW|WANDB)_/.test(name)) delete env[name];
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'run.js'), 'trainer'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).to.equal(0);
    expect(out).to.match(/built-in plugins: .*@poke\/plugin-mlflow/);
    expect(out).to.match(/Trainer, \d+ built-in plugins\s+[\d,]+\s+\d+\.\d+/);
    expect(out).to.match(/Trainer, \d+ built-in plugins \+ 1 more turn every 2nd step\s+[\d,]+\s+\d+\.\d+/);
    expect(out).to.match(/Event-loop turn after every step, with \d+ plugins: .*one turn takes \d+\.\d+ µs/);
  });
});
