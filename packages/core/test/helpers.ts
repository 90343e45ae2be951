import { mkdtemp, mkdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, silentLogger, Trainer } from '@poke/core';
import type { UserConfig, PokePlugin, ResolvedConfig, TrainerOptions } from '@poke/core';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * A fresh folder inside the repository, so config files written there can
 * import @poke/core the way a user's project does.
 */
export async function tempDir(prefix = 'test'): Promise<string> {
  const root = join(REPO_ROOT, '.cache', 'test-tmp');
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${prefix}-`));
}

/** A small, fast configuration on the cpu backend. */
export function smallConfig(overrides: UserConfig = {}): UserConfig {
  return {
    ...overrides,
    seed: overrides.seed ?? 7,
    data: { source: 'synthetic', samples: 600, features: 12, actions: 5, ...overrides.data },
    model: { hiddenSizes: [16], dropout: 0.1, ...overrides.model },
    train: { epochs: 2, batchSize: 64, logEvery: 3, backend: 'cpu', ...overrides.train },
  };
}

export async function resolved(user: UserConfig, baseDir: string): Promise<{ config: ResolvedConfig; plugins: PokePlugin[] }> {
  return resolveConfig({ user, file: undefined, baseDir });
}

export async function makeTrainer(
  user: UserConfig,
  baseDir: string,
  options: Omit<TrainerOptions, 'baseDir'> = {},
): Promise<Trainer> {
  const { config, plugins } = await resolved(user, baseDir);
  return new Trainer(config, { logger: silentLogger, baseDir, ...options, plugins: [...plugins, ...(options.plugins ?? [])] });
}

export async function weightsOf(trainer: Trainer): Promise<Float32Array[]> {
  return Promise.all(trainer.model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}
