import { Type } from '@sinclair/typebox';
import { choice, defineOptions, withDefault } from '@poke/core';
import type { OptionsOf } from '@poke/core';

/** The one definition of `compare()`'s options: their types, JSON schema, defaults and descriptions. */
export const comparePluginSchema = defineOptions({
  metric: withDefault(Type.String({ minLength: 1, description: 'metric that ranks the runs' }), 'val_loss'),
  mode: Type.Optional(choice(['min', 'max'], { description: 'min: lower is better; max: higher is better (default: max for accuracy-like names, min otherwise)' })),
});

export type ComparePluginOptions = OptionsOf<typeof comparePluginSchema>;

/** JSON schema of one `CompareRow`, as `poke compare --json` prints them (an array, best first). */
const num = { type: ['number', 'null'] } as const;
const int = { type: ['integer', 'null'], minimum: 0 } as const;

export const evalResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file', 'opponent', 'games', 'winRate', 'ci95', 'timestamp'],
  properties: {
    file: { type: 'string' },
    opponent: { type: ['string', 'null'] },
    games: int,
    winRate: { type: 'number', minimum: 0, maximum: 1 },
    ci95: { oneOf: [{ type: 'null' }, { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', minimum: 0, maximum: 1 } }] },
    timestamp: { type: 'string' },
  },
} as const;

export const compareRowSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name', 'path', 'status', 'metric', 'mode', 'value', 'valueSource', 'valueStep', 'rank', 'bestCheckpoint', 'epoch', 'step',
    'trainLoss', 'valLoss', 'valAccuracy', 'parameters', 'wallSeconds', 'winRate', 'winRateVs', 'evals', 'parent', 'config', 'reason',
  ],
  properties: {
    name: { type: 'string' },
    path: { type: 'string' },
    status: { enum: ['completed', 'interrupted', 'failed', 'running', 'crashed', 'unknown'] },
    metric: { type: 'string' },
    mode: { enum: ['min', 'max'] },
    value: num,
    valueSource: { enum: ['best-checkpoint', 'metrics.csv', 'eval', null] },
    valueStep: int,
    rank: { type: ['integer', 'null'], minimum: 1 },
    bestCheckpoint: { type: ['string', 'null'] },
    epoch: int,
    step: int,
    trainLoss: num,
    valLoss: num,
    valAccuracy: num,
    parameters: int,
    wallSeconds: { type: ['number', 'null'], minimum: 0 },
    winRate: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    winRateVs: { type: ['string', 'null'] },
    evals: { type: 'array', items: evalResultSchema },
    parent: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['run', 'runId', 'checkpoint'],
          properties: { run: { type: ['string', 'null'] }, runId: { type: ['string', 'null'] }, checkpoint: { type: 'string' } },
        },
      ],
    },
    config: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    reason: { type: ['string', 'null'] },
  },
  // A run has a rank exactly when it has a value; a missing value always says why.
  if: { properties: { value: { type: 'null' } } },
  then: { properties: { rank: { type: 'null' }, reason: { type: 'string' }, valueSource: { type: 'null' } } },
  else: { properties: { rank: { type: 'integer' }, reason: { type: 'null' } } },
} as const;

export const compareOutputSchema = { type: 'array', items: compareRowSchema } as const;
