import type { ResolvedOptionsOf, OptionsOf } from '@poke/core';

/**
 * Options of `storage()`. Where the run goes is the config's `storage` key (or
 * `--storage`); these only tune how it gets there.
 */
export const storageOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stallSeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: 'a request the server has not answered for this long is aborted and retried (a stalled upload)',
    },
    partSize: { type: 'integer', minimum: 5242880, default: 16777216, description: 'bytes per part of a multipart upload (S3 needs ≥ 5 MiB)' },
    queueSize: { type: 'integer', minimum: 1, default: 4, description: 'parts of one file in flight at once' },
    retrySeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 5,
      description: 'wait before a failed upload is retried; doubles with each failure, up to 5 minutes',
    },
  },
} as const;

export type StorageOptions = OptionsOf<typeof storageOptionsSchema>;
export type ResolvedStorageOptions = ResolvedOptionsOf<typeof storageOptionsSchema>;
