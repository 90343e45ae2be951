import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, MetricsRecord, Trainer, UserConfig, PokePlugin } from '@poke/core';
import { makeTrainer, smallConfig } from './helpers.js';

/** What the tracker plugins' tests share (MLflow's, W&B's, the example tracker's). */

export function recordingLogger(): Logger & { lines: string[]; warnings(): string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(`warning: ${m}`),
    warnings: () => lines.filter((l) => l.startsWith('warning: ')),
  };
}

export function collectRecords(trainer: Trainer): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  trainer.hooks.log.tap('test:collect', (r) => void records.push(r));
  return records;
}

export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** runs/<run>/<tracker>/run.json: which remote run a poke run is. */
export function trackerRunFile(dir: string, run: string, tracker: string): Promise<any> {
  return readJson(join(dir, 'runs', run, tracker, 'run.json'));
}

export async function trainer(dir: string, user: UserConfig, plugins: PokePlugin[], extra: { logger?: Logger; resume?: string } = {}): Promise<Trainer> {
  return makeTrainer(smallConfig(user), dir, { plugins, ...(extra.logger ? { logger: extra.logger } : {}), ...(extra.resume ? { resume: extra.resume } : {}) });
}
