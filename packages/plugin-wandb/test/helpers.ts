import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricsRecord } from '@poke/core';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';
import { trackerRunFile } from '../../core/test/tracker-helpers.js';

export { makeTrainer, smallConfig, tempDir };
export { recordingLogger, collectRecords, readJson, trainer } from '../../core/test/tracker-helpers.js';

export function runFileOf(dir: string, run: string): Promise<any> {
  return trackerRunFile(dir, run, 'wandb');
}

/** 40 characters, like a real W&B key; tests grep for it to prove it never leaks. */
export const API_KEY = 'local0test0key0' + 'f'.repeat(25);

/** History rows as the server holds them, reduced to what the trainer logged: step, then the metrics. */
export function historyRows(history: Array<Record<string, any>>): Array<{ step: number; metrics: Record<string, number> }> {
  return history.map((row) => {
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(row)) if (!k.startsWith('_')) metrics[k] = v as number;
    return { step: row._step as number, metrics };
  });
}

export function recordRows(records: readonly MetricsRecord[]): Array<{ step: number; metrics: Record<string, number> }> {
  return records.map((r) => ({ step: r.step, metrics: { ...r.metrics } }));
}

/** Run `fn` with these environment variables set (undefined removes one), then put them back. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A HOME with a .netrc holding `key` for `host` (and a decoy machine before it). */
export async function netrcHome(host: string, key: string): Promise<string> {
  const home = await tempDir('wandb-home');
  await writeFile(join(home, '.netrc'), `# written by the test\nmachine other.example.com\n  login user\n  password wrong-key\nmachine ${host}\n  login user\n  password ${key}\n`, { mode: 0o600 });
  return home;
}

/** Every file under `dir` whose content contains `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && (await readFile(path)).includes(needle)) hits.push(path);
    }
  };
  await walk(dir);
  return hits;
}
