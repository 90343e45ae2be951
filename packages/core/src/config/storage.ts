import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '../plugins/define-options.js';
import type { OptionsOf, ResolvedOptionsOf } from '../plugins/define-options.js';

/**
 * `storage`: where a run lives besides the local disk. The one definition of the
 * key: its type, its JSON schema and its defaults come from this schema.
 */
export const storageConfigSchema = defineOptions(
  {
    url: Type.String({
      pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$',
      description: '`s3://bucket/prefix`: mirror runs to S3-compatible storage and resume them from there ([storage.md](storage.md)); run `NAME` lives under `prefix/NAME/`',
    }),
    endpoint: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'an S3-compatible server: `http://minio:9000`, an R2 or s3proxy endpoint; default: AWS' }),
    ),
    region: Type.Optional(Type.String({ minLength: 1, description: 'default: `AWS_REGION` or the profile\'s, else `us-east-1`' })),
    forcePathStyle: withDefault(Type.Boolean({ description: '`<endpoint>/<bucket>/key` addressing, which most self-hosted servers need' }), false),
  },
  { description: 'S3-compatible object storage that runs are mirrored to and resumed from' },
);

export type StorageConfig = OptionsOf<typeof storageConfigSchema>;
export type ResolvedStorageConfig = Readonly<ResolvedOptionsOf<typeof storageConfigSchema>>;

/** `s3://bucket/a/b/` → { bucket, prefix: 'a/b' } (no slash at either end). */
export function parseStorageUrl(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// url: ${url}`);
  return { bucket: match[1]!, prefix: match[2]!.replace(/^\/+|\/+$/g, '') };
}
