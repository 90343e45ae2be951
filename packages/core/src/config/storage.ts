import type { OptionsOf, ResolvedOptionsOf } from '../plugins/schema-types.js';

/**
 * `storage`: where a run lives besides the local disk. The one definition of the
 * key: its type, its JSON schema and its defaults come from this schema.
 */
export const storageConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  description: 'S3-compatible object storage that runs are mirrored to and resumed from',
  properties: {
    url: {
      type: 'string',
      pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$',
      description: 's3://bucket/prefix: run <name> lives under <prefix>/<name>/',
    },
    endpoint: { type: 'string', pattern: '^https?://', description: 'an S3-compatible server (MinIO, s3proxy, R2); default: AWS' },
    region: { type: 'string', minLength: 1, description: 'region; default: from AWS_REGION or the profile, else us-east-1' },
    forcePathStyle: { type: 'boolean', default: false, description: 'address buckets as <endpoint>/<bucket> (most self-hosted servers need it)' },
  },
} as const;

export type StorageConfig = OptionsOf<typeof storageConfigSchema>;
export type ResolvedStorageConfig = Readonly<ResolvedOptionsOf<typeof storageConfigSchema>>;

/** `s3://bucket/a/b/` → { bucket, prefix: 'a/b' } (no slash at either end). */
export function parseStorageUrl(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// url: ${url}`);
  return { bucket: match[1]!, prefix: match[2]!.replace(/^\/+|\/+$/g, '') };
}
