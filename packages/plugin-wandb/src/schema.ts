import { Type } from '@sinclair/typebox';
import { choice, defineOptions, deliveryOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

export const MODES = ['online', 'offline', 'disabled'] as const;
export type WandbMode = (typeof MODES)[number];

/** A W&B server URL. No credentials, query or fragment: paths are appended to it, and the key travels in a header. */
const BASE_URL_PATTERN = '^https?://[^\\s/@?#]+(/[^\\s@?#]*)?$';
export const BASE_URL = new RegExp(BASE_URL_PATTERN);

/** A project or entity: W&B puts it in URL paths. */
const NAME = { minLength: 1, maxLength: 128, pattern: '^[^/\\\\#?%:]+$' } as const;

/** The one definition of `wandb()`'s options: their types, JSON schema, defaults and descriptions. */
export const wandbOptionsSchema = defineOptions({
  project: withDefault(Type.String({ ...NAME, description: 'W&B project' }), 'poke'),
  entity: Type.Optional(Type.String({ ...NAME, description: "W&B entity, a user or team (default: the API key's default entity, asked from the server)" })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "display name of the W&B run (default: the run folder's name)" })),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'group of the W&B run' })),
  tags: withDefault(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, description: 'tags of the W&B run' }), []),
  notes: Type.Optional(Type.String({ maxLength: 10000, description: 'notes of the W&B run' })),
  mode: Type.Optional(
    choice(MODES, {
      description: 'online sends while training, offline only spools (send later with `poke wandb sync`), disabled does nothing (default: WANDB_MODE, else online)',
    }),
  ),
  baseUrl: Type.Optional(
    Type.String({ pattern: BASE_URL_PATTERN, description: 'W&B server URL, e.g. a self-hosted W&B (default: WANDB_BASE_URL, else https://api.wandb.ai)' }),
  ),
  flushInterval: withDefault(
    Type.Number({ minimum: 0, maximum: 3600, description: "seconds between file_stream requests while records arrive (the SDK's 15 s); the first goes at once" }),
    15,
  ),
  statsInterval: withDefault(
    Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: "seconds between samples of system metrics (CPU, memory, the process's RSS)" }),
    15,
  ),
  ...deliveryOptions,
});

export type WandbOptions = OptionsOf<typeof wandbOptionsSchema>;
/** Mode and server are always known once resolved: from the options, else the environment, else the defaults. */
export type ResolvedWandbOptions = ResolvedOptionsOf<typeof wandbOptionsSchema> & { mode: WandbMode; baseUrl: string };
