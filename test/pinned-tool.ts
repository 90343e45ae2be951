import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'mocha';
import { skipOrFail, type Requirement } from './requirements.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** A cold install takes a minute or less on an idle machine; a loaded one or a slow mirror, much longer. */
const INSTALL_TIMEOUT_MS = 20 * 60_000;

/** A tool the tests run for real, pinned in the cache by scripts/install-<tool>.sh (a venv, or a jar). */
export interface PinnedTool {
  /** Names the script (`install-mlflow.sh`), the venv or jar, and the variables POKE_<TOOL>_BIN and POKE_SKIP_<TOOL> (`-` as `_`). */
  readonly tool: 'mlflow' | 'tensorboard' | 'wandb' | 's3proxy' | 'poke-env';
  /** For messages: `MLflow`. */
  readonly label: string;
  /** What the script's exit code 3 means: a runtime only root can install. @default python3 with its venv module */
  readonly runtime?: Requirement;
}

/** The tool's part of an environment variable's name: `poke-env` → `POKE_ENV`. */
function envName(tool: string): string {
  return tool.toUpperCase().replace(/-/g, '_');
}

type Installed = { bin: string } | { requirement: Requirement };

const installing = new Map<string, Promise<Installed>>();

/** The install script, once per test process: pip's progress on our stderr, the binary's path from its last line. */
function install({ tool, label, runtime }: PinnedTool): Promise<Installed> {
  const upper = envName(tool);
  const given = process.env[`POKE_${upper}_BIN`];
  if (given) {
    if (!existsSync(given)) return Promise.reject(new Error(`POKE_${upper}_BIN=${given} does not exist`));
    return Promise.resolve({ bin: given });
  }
  const script = join(REPO_ROOT, 'scripts', `install-${tool}.sh`);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const bin = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && existsSync(bin)) resolve({ bin });
      // Exit 3: the runtime the tool needs is missing, which only root can install.
      else if (code === 3) resolve({ requirement: runtime ?? { missing: `python3 with its venv module is not installed (needed to install ${label})`, fix: 'apt-get install python3-venv' } });
      else reject(new Error(`scripts/install-${tool}.sh exited with ${code} (its output is above); the ${label} tests need it`));
    });
  });
}

/**
 * The tool's binary (or jar), installed into the cache (~/.cache/poke) on first
 * need and exported as POKE_<TOOL>_BIN. Skips the suite (or fails under
 * POKE_REQUIRE_ALL=1) only when POKE_SKIP_<TOOL>=1 asks for it or the runtime
 * is missing; any other install failure fails the test.
 */
export async function requirePinnedTool(ctx: Context, pinned: PinnedTool): Promise<string> {
  const upper = envName(pinned.tool);
  if (process.env[`POKE_SKIP_${upper}`] === '1') skipOrFail(ctx, { missing: `POKE_SKIP_${upper}=1 is set`, fix: `unset POKE_SKIP_${upper}` });
  const timeout = ctx.timeout();
  ctx.timeout(INSTALL_TIMEOUT_MS);
  let pending = installing.get(pinned.tool);
  if (!pending) installing.set(pinned.tool, (pending = install(pinned)));
  const result = await pending;
  // Setting it again restarts the clock: what follows gets the hook's or test's own budget.
  ctx.timeout(timeout);
  if ('requirement' in result) skipOrFail(ctx, result.requirement);
  process.env[`POKE_${upper}_BIN`] = result.bin;
  return result.bin;
}
