import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { CheckpointManager } from '@poke/plugin-checkpoint';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const POKE = join(REPO_ROOT, 'packages', 'cli', 'bin', 'poke.js');

/** One line of the summary every scenario contributes to. */
export interface ScenarioCount {
  scenario: string;
  runs: number;
  faults: number;
  resumed: number;
  recordsLost: number;
  notes?: string;
}

export const summary: ScenarioCount[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const root = join(REPO_ROOT, '.cache', 'chaos-tmp');
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${prefix}-`));
}

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  kill(signal: NodeJS.Signals): void;
  waitFor(pattern: RegExp): Promise<void>;
  result: Promise<Outcome>;
}

/** Start the real `poke` binary. */
export function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [POKE, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const result = new Promise<Outcome>((resolve) =>
    child.on('close', (code, signal) => {
      for (const w of waiters) w.resolve();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    kill: (signal) => child.kill(signal),
    waitFor: (pattern) => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    result,
  };
}

export function poke(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return start(args, cwd, env).result;
}

/** Every listed checkpoint verifies; returns how many were checked. Throws with the failures otherwise. */
export async function verifyCheckpoints(runDir: string): Promise<number> {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(join(dir, 'checkpoints.json'))) return 0;
  const manager = await CheckpointManager.open(dir, { monitor: { name: 'val_loss', mode: 'min' } });
  const results = await manager.verifyAll();
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`checkpoints failed verification: ${failed.map((f) => f.error).join('; ')}`);
  return results.length;
}

export async function csvRows(path: string): Promise<Record<string, string>[]> {
  return parse(await readFile(path, 'utf8'), { columns: true }) as Record<string, string>[];
}

/** Rows without what may differ between two runs of the same job (wall clock). */
export function comparable(rows: Record<string, string>[]): Array<Record<string, string>> {
  return rows.map(({ timestamp: _t, samples_per_sec: _s, ...rest }) => rest);
}

export function assertStepsOnceInOrder(rows: Record<string, string>[]): void {
  const steps = rows.map((r) => Number(r.step));
  for (let i = 1; i < steps.length; i++) {
    if (!(steps[i]! > steps[i - 1]!)) throw new Error(`metrics.csv: step ${steps[i]} follows ${steps[i - 1]}`);
  }
}

export async function latestWeightsHash(runDir: string): Promise<string> {
  const dir = join(runDir, 'checkpoints');
  const manifest = JSON.parse(await readFile(join(dir, 'checkpoints.json'), 'utf8'));
  return JSON.parse(await readFile(join(dir, manifest.latest, 'metadata.json'), 'utf8')).files['weights.bin'].sha256;
}

/** Temporary files and folders an interrupted write left, in the run folder and its checkpoints folder. */
export async function leftovers(runDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of [runDir, join(runDir, 'checkpoints')]) {
    if (!existsSync(dir)) continue;
    found.push(...(await readdir(dir)).filter((n) => n.includes('.tmp-')).map((n) => join(dir, n)));
  }
  return found;
}
