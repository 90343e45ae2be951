import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger, MetricsRecord, Trainer, UserConfig } from '@poke/core';
import { adamStep, makeTrainer, smallConfig, tempDir, weightsOf, REPO_ROOT } from '../../core/test/helpers.js';
import checkpoint from '@poke/plugin-checkpoint';
import type { CheckpointOptions } from '@poke/plugin-checkpoint';

export { adamStep, makeTrainer, smallConfig, tempDir, weightsOf, REPO_ROOT };

/** A method of node's FileHandle, as a test wraps it. */
export type FileHandleMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * FileHandle's prototype, whose `write` a test may wrap (and must put back): node does
 * not export the class, so it comes from a handle opened and closed in `dir`. `close` is
 * each handle's own property, not the prototype's.
 */
export async function fileHandlePrototype(dir: string): Promise<{ write: FileHandleMethod; sync: FileHandleMethod }> {
  const probe = await open(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as { write: FileHandleMethod; sync: FileHandleMethod };
}

export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => void lines.push(m), warn: (m) => void lines.push(`warning: ${m}`) };
}

export function collectRecords(trainer: Trainer): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  trainer.hooks.log.tap('test:collect', (r) => void records.push(r));
  return records;
}

/** Records as comparable rows: timing is the only thing allowed to differ between two runs. */
export function rowsOf(records: MetricsRecord[]) {
  return records.map((r) => ({ step: r.step, epoch: r.epoch, metrics: { ...r.metrics, samples_per_sec: 0 } }));
}

export async function checkpointTrainer(
  dir: string,
  user: UserConfig,
  options: CheckpointOptions = {},
  extra: { resume?: string; logger?: Logger; stopAt?: number } = {},
): Promise<Trainer> {
  const trainer = await makeTrainer(smallConfig(user), dir, {
    plugins: [checkpoint(options)],
    ...(extra.resume ? { resume: extra.resume } : {}),
    ...(extra.logger ? { logger: extra.logger } : {}),
  });
  if (extra.stopAt !== undefined) {
    trainer.hooks.afterStep.tap('test:stop', ({ globalStep }) => {
      if (globalStep === extra.stopAt) trainer.stop('test');
    });
  }
  return trainer;
}

export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** The sha256 of the latest checkpoint's weights.bin in a run folder, read from the file itself. */
export async function latestWeightsHash(runDir: string): Promise<string> {
  const dir = join(runDir, 'checkpoints');
  const manifest = await readJson(join(dir, 'checkpoints.json'));
  return createHash('sha256').update(await readFile(join(dir, manifest.latest, 'weights.bin'))).digest('hex');
}

export function checkpointsDir(trainer: Trainer): string {
  return join(trainer.context!.runDir, 'checkpoints');
}
