/** Options of `@poke/plugin-wandb`. */
export interface WandbOptions {
  /** W&B project. @default "poke" */
  project?: string;
  /** W&B entity (user or team). @default the API key's default entity (asked from the server) */
  entity?: string;
  /** Display name of the W&B run. @default the run folder's name */
  name?: string;
  /** Group of the W&B run. */
  group?: string;
  tags?: string[];
  notes?: string;
  /** `online` sends while training, `offline` only spools (send later with `poke wandb sync`), `disabled` does nothing. @default WANDB_MODE, else "online" */
  mode?: 'online' | 'offline' | 'disabled';
  /** Server URL, e.g. a self-hosted W&B. @default WANDB_BASE_URL, else "https://api.wandb.ai" */
  baseUrl?: string;
  /** Seconds between file_stream requests while records arrive (the SDK's 15 s); the first goes at once. @default 15 */
  flushInterval?: number;
  /** Seconds between samples of system metrics (CPU, memory, the process's RSS), the SDK's 15 s. @default 15 */
  statsInterval?: number;
  /** Seconds `done` may spend delivering what is left; the rest stays in the spool. @default 10 */
  finishTimeout?: number;
  /** Seconds per request. @default 15 */
  requestTimeout?: number;
  /** Longest wait between retries, in seconds. @default 30 */
  maxBackoff?: number;
}

export const MODES = ['online', 'offline', 'disabled'] as const;
export type WandbMode = (typeof MODES)[number];

export const wandbOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    project: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^/\\\\#?%:]+$', default: 'poke', description: 'W&B project' },
    entity: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^/\\\\#?%:]+$', description: "W&B entity (default: the API key's default entity)" },
    name: { type: 'string', minLength: 1, maxLength: 128, description: "display name of the W&B run (default: the run folder's name)" },
    group: { type: 'string', minLength: 1, maxLength: 128, description: 'group of the W&B run' },
    tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 100, default: [], description: 'tags of the W&B run' },
    notes: { type: 'string', maxLength: 10000, description: 'notes of the W&B run' },
    mode: { enum: [...MODES], description: 'online, offline or disabled (default: WANDB_MODE, else online)' },
    baseUrl: { type: 'string', pattern: '^https?://[^\\s/@?#]+(/[^\\s@?#]*)?$', description: 'W&B server URL (default: WANDB_BASE_URL, else https://api.wandb.ai)' },
    flushInterval: { type: 'number', minimum: 0, maximum: 3600, default: 15, description: 'seconds between file_stream requests while records arrive' },
    statsInterval: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 15, description: 'seconds between samples of system metrics' },
    finishTimeout: { type: 'number', minimum: 0, maximum: 3600, default: 10, description: 'seconds the end of a run may spend delivering' },
    requestTimeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 15, description: 'seconds per request' },
    maxBackoff: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30, description: 'longest wait between retries, seconds' },
  },
} as const;
