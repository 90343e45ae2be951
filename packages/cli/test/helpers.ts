import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProjectDir } from '../../../test/temp-dirs.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const POKE_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'poke.js');

/** `--plugin` arguments for fixtures/hold-plugin.mjs: hold the run at step `at` until a stop is requested. */
export function holdAt(at: number, options: { holdStop?: boolean } = {}): string[] {
  return ['--plugin', `${join(REPO_ROOT, 'packages', 'cli', 'test', 'fixtures', 'hold-plugin.mjs')}=${JSON.stringify({ at, ...options })}`];
}

/**
 * A fresh project folder outside the clone: config search from it finds no config of
 * the clone's (a poke.config.ts at the clone root, as `poke init` writes), and
 * its configs and plugins still import @poke/* (the host's copy, through the
 * core's module hooks).
 */
export function tempDir(prefix = 'cli'): Promise<string> {
  return makeProjectDir(`poke-test-${prefix}-`);
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ReturnType<typeof spawn>;
  kill(signal: NodeJS.Signals): void;
  /**
   * Resolves when stderr has printed text matching `pattern`, or `times` separate
   * matches of it; also when the process exits first (check `result` then).
   */
  waitFor(pattern: RegExp, times?: number): Promise<void>;
  result: Promise<Result>;
}

/** Run the real `poke` binary as a user would. */
export function startPoke(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [POKE_BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ seen: () => boolean; resolve: () => void }> = [];
  const matches = (pattern: RegExp, times: number) =>
    times <= 1 ? pattern.test(stderr) : (stderr.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'))?.length ?? 0) >= times;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) {
      if (w.seen()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const result = new Promise<Result>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters) w.resolve();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    kill: (signal) => void child.kill(signal),
    result,
    waitFor: (pattern, times = 1) => {
      const seen = () => matches(pattern, times);
      return seen() ? Promise.resolve() : new Promise((resolve) => waiters.push({ seen, resolve }));
    },
  };
}

export function poke(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return startPoke(args, cwd, env).result;
}

/** Small and quick, on the cpu backend. */
export const FAST = ['--backend', 'cpu', '--set', 'data={"source":"synthetic","samples":600}', '--set', 'model.hiddenSizes=[16]', '--set', 'train.batchSize=64'];
