import { Type } from '@sinclair/typebox';
import { choice, defineOptions, deliveryOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/** The one definition of `mlflow()`'s options: their types, JSON schema, defaults and descriptions. */
export const mlflowOptionsSchema = defineOptions({
  trackingUri: Type.Optional(
    Type.String({ pattern: '^https?://[^\\s]+$', description: 'http(s)://host:port of the tracking server (default: MLFLOW_TRACKING_URI)' }),
  ),
  experiment: withDefault(Type.String({ minLength: 1, maxLength: 500, description: 'experiment name; created when missing' }), 'poke'),
  runName: Type.Optional(Type.String({ minLength: 1, maxLength: 250, description: "MLflow run name (default: the run folder's name)" })),
  tags: withDefault(
    Type.Record(Type.String(), Type.String({ maxLength: 8000 }), {
      propertyNames: { maxLength: 250, minLength: 1 },
      description: 'extra run tags',
    }),
    {},
  ),
  logCheckpoints: withDefault(
    choice([false, 'best', 'all'], { description: 'upload checkpoints as artifacts under checkpoints/<id>/: none, the best ones, or all' }),
    false,
  ),
  flushInterval: withDefault(
    Type.Number({ minimum: 0, maximum: 3600, description: 'seconds between rounds of requests while records arrive; the first goes at once' }),
    1,
  ),
  ...deliveryOptions,
});

export type MlflowOptions = OptionsOf<typeof mlflowOptionsSchema>;
export type ResolvedMlflowOptions = ResolvedOptionsOf<typeof mlflowOptionsSchema> & { trackingUri: string };
