import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from 'mocha';
import { REPO_ROOT } from '../../core/test/helpers.js';
import { skipOrFail, type Requirement } from '../../../test/requirements.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'install-tensorboard.sh');
/** A cold install takes about half a minute on an idle machine; a loaded one or a slow mirror, much longer. */
const INSTALL_TIMEOUT_MS = 20 * 60_000;

type Installed = { bin: string } | { requirement: Requirement };

let installing: Promise<Installed> | undefined;

/** scripts/install-tensorboard.sh, once per test process: pip's progress on our stderr, the binary's path from its last line. */
function install(): Promise<Installed> {
  const given = process.env.POKE_TENSORBOARD_BIN;
  if (given) {
    if (!existsSync(given)) return Promise.reject(new Error(`POKE_TENSORBOARD_BIN=${given} does not exist`));
    return Promise.resolve({ bin: given });
  }
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const bin = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && existsSync(bin)) resolve({ bin });
      // Exit 3: python3 or its venv module is missing, which only root can install.
      else if (code === 3) resolve({ requirement: { missing: 'python3 with its venv module is not installed (needed to install TensorBoard)', fix: 'apt-get install python3-venv' } });
      else reject(new Error(`scripts/install-tensorboard.sh exited with ${code} (its output is above); the TensorBoard tests need it`));
    });
  });
}

/**
 * The `tensorboard` binary, installed into the cache (~/.cache/poke/tensorboard-venv) on first
 * need and exported as POKE_TENSORBOARD_BIN. Skips the suite (or fails under
 * POKE_REQUIRE_ALL=1) only when POKE_SKIP_TENSORBOARD=1 asks for it or python3-venv is
 * missing; any other install failure fails the test.
 */
export async function requireTensorboard(ctx: Context): Promise<string> {
  if (process.env.POKE_SKIP_TENSORBOARD === '1') skipOrFail(ctx, { missing: 'POKE_SKIP_TENSORBOARD=1 is set', fix: 'unset POKE_SKIP_TENSORBOARD' });
  const timeout = ctx.timeout();
  ctx.timeout(INSTALL_TIMEOUT_MS);
  const result = await (installing ??= install());
  // Setting it again restarts the clock: what follows gets the hook's or test's own budget.
  ctx.timeout(timeout);
  if ('requirement' in result) skipOrFail(ctx, result.requirement);
  process.env.POKE_TENSORBOARD_BIN = result.bin;
  return result.bin;
}

/** The venv's python, beside the `tensorboard` binary: it runs read_events.py with TensorBoard's reader. */
export function pythonOf(bin: string): string {
  return join(dirname(bin), 'python');
}
