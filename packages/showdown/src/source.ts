import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readShards, writeShards } from '@poke/core';
import type { DataSource, Dataset } from '@poke/core';
import { generateDemonstrations } from './generate.js';
import { DEMONSTRATORS, OPPONENTS } from './generate.js';
import type { Demonstrator, Opponent } from './generate.js';
import { ENCODER_VERSION, FEATURE_SIZE, describeLayout } from './encoder/layout.js';
import { ACTION_COUNT } from './actions.js';

export interface ShowdownSourceOptions {
  /** Expert battles to generate. @default 200 */
  battles: number;
  /** @default "gen9randombattle" */
  format: string;
  /** @default "random" */
  opponent: Opponent;
  /** The demonstrator whose decisions are recorded. @default "expert" */
  player?: Demonstrator;
  /** Seed of the battles; defaults to the run's seed. */
  seed?: number;
  /** worker_threads; defaults to os.availableParallelism(). Does not change the data. */
  workers?: number;
}

export const showdownSourceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: { const: 'showdown' },
    valFraction: { type: 'number' },
    battles: { type: 'integer', minimum: 1, default: 200, description: 'expert battles to generate' },
    format: { type: 'string', pattern: '^gen9[a-z0-9]*randombattle$', default: 'gen9randombattle', description: 'a gen 9 random battle format' },
    opponent: { enum: [...OPPONENTS], default: 'random', description: "the demonstrator's opponent" },
    player: { enum: [...DEMONSTRATORS], default: 'expert', description: 'the demonstrator whose decisions are recorded' },
    seed: { type: 'integer', description: "seed of the battles (default: the run's seed)" },
    workers: { type: 'integer', minimum: 1, description: 'worker threads (default: all cores); does not change the data' },
  },
} as const;

/** The cache key: every option that changes the data, and the encoder version. */
export function fingerprint(options: { battles: number; format: string; opponent: Opponent; player?: Demonstrator; seed: number }): string {
  // The expert (the first demonstrator) is left out of the key, so caches made before `player` existed stay valid.
  const player = options.player && options.player !== 'expert' ? { player: options.player } : {};
  const key = JSON.stringify({ battles: options.battles, format: options.format, opponent: options.opponent, ...player, seed: options.seed, encoder: ENCODER_VERSION });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export const showdownSource: DataSource<ShowdownSourceOptions> = {
  name: 'showdown',
  schema: showdownSourceSchema,
  describe: (o) => `showdown: ${o.battles} ${o.player ?? 'expert'} battles of ${o.format} vs ${o.opponent}`,
  async load(options, context): Promise<Dataset> {
    const seed = options.seed ?? context.seed;
    const key = fingerprint({ ...options, seed });
    const dir = join(context.cacheDir, 'showdown', key);
    if (existsSync(join(dir, 'index.json'))) {
      try {
        const cached = await readShards(dir);
        context.progress(`showdown: reusing ${cached.size} cached decisions from ${dir}`);
        return cached;
      } catch (err) {
        context.progress(`showdown: cache ${dir} unreadable (${(err as Error).message}); generating again`);
        await rm(dir, { recursive: true, force: true });
      }
    }
    const result = await generateDemonstrations({ ...options, seed }, (done, total) =>
      context.progress(`showdown: generating battles ${done}/${total}`, done, total),
    );
    await writeShards(dir, result.dataset, { meta: generationMeta({ ...options, seed }, result) });
    context.progress(`showdown: ${result.battles} battles, ${result.decisions} decisions in ${result.seconds.toFixed(1)} s, cached in ${dir}`);
    return result.dataset;
  },
};

export function generationMeta(
  options: { battles: number; format?: string; opponent?: string; player?: string; seed?: number },
  result: { decisions: number; expertWins: number },
): Record<string, unknown> {
  return {
    source: '@poke/showdown',
    kind: 'self-play',
    format: options.format ?? 'gen9randombattle',
    opponent: options.opponent ?? 'random',
    player: options.player ?? 'expert',
    battles: options.battles,
    seed: options.seed ?? 1,
    decisions: result.decisions,
    expertWins: result.expertWins,
    encoderVersion: ENCODER_VERSION,
    featureSize: FEATURE_SIZE,
    actionCount: ACTION_COUNT,
    layout: describeLayout().map((b) => `${b.offset}+${b.size} ${b.name}`),
  };
}
