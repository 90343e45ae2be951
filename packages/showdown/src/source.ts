import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readShards, writeShards, choice, defineOptions, withDefault } from '@poke/core';
import type { DataSource, Dataset, ResolvedOptionsOf } from '@poke/core';
import { generateDemonstrations } from './generate.js';
import { DEMONSTRATORS, OPPONENTS } from './generate.js';
import type { Demonstrator, Opponent } from './generate.js';
import { ENCODER_VERSION, FEATURE_SIZE, describeLayout } from './encoder/layout.js';
import { ACTION_COUNT } from './actions.js';
import { FORMATS } from './formats.js';

/** The `data` section when `source: 'showdown'`: the one definition of its keys, types and defaults. */
export const showdownSourceSchema = defineOptions({
  source: Type.Optional(Type.Literal('showdown')),
  valFraction: Type.Optional(Type.Number()),
  battles: withDefault(Type.Integer({ minimum: 1, description: 'expert battles to generate' }), 200),
  format: withDefault(choice(FORMATS, { description: 'a gen 9 singles random battle format' }), 'gen9randombattle'),
  opponent: withDefault(choice(OPPONENTS, { description: "the demonstrator's opponent" }), 'random'),
  player: withDefault(choice(DEMONSTRATORS, { description: 'the demonstrator whose decisions are recorded' }), 'expert'),
  seed: Type.Optional(Type.Integer({ description: "seed of the battles (default: the run's seed)" })),
  workers: Type.Optional(Type.Integer({ minimum: 1, description: 'worker threads (default: os.availableParallelism()); does not change the data' })),
});

export type ShowdownSourceOptions = ResolvedOptionsOf<typeof showdownSourceSchema>;

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
        context.warn(`showdown: cache ${dir} unreadable (${(err as Error).message}); generating again`);
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
