import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '@poke/core';
import type { OptionsOf, ResolvedOptionsOf } from '@poke/core';

/**
 * Options of `storage()`. Where the run goes is the config's `storage` key (or
 * `--storage`); these only tune how it gets there.
 */
export const storageOptionsSchema = defineOptions({
  stallSeconds: withDefault(
    Type.Number({ exclusiveMinimum: 0, description: 'a request the server has not answered for this long is aborted and retried (a stalled upload)' }),
    60,
  ),
  partSize: withDefault(Type.Integer({ minimum: 5242880, description: 'bytes per part of a multipart upload (S3 needs ≥ 5 MiB)' }), 16777216),
  queueSize: withDefault(Type.Integer({ minimum: 1, description: 'parts of one file in flight at once' }), 4),
  retrySeconds: withDefault(
    Type.Number({ exclusiveMinimum: 0, description: 'wait before a failed upload is retried; doubles with each failure, up to 5 minutes' }),
    5,
  ),
});

export type StorageOptions = OptionsOf<typeof storageOptionsSchema>;
export type ResolvedStorageOptions = ResolvedOptionsOf<typeof storageOptionsSchema>;
