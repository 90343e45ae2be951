import { validateWithSchema } from '@poke/core';

/** What a commit marker says: every file of the checkpoint, with its size and sha256. */
export interface CommitMarker {
  readonly format: typeof MARKER_FORMAT;
  readonly id: string;
  readonly committedAt: string;
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

export const MARKER_FORMAT = 'poke-remote-checkpoint/1';

const markerSchema = {
  type: 'object',
  required: ['format', 'id', 'committedAt', 'files'],
  properties: {
    format: { const: MARKER_FORMAT },
    id: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
    committedAt: { type: 'string' },
    files: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
      additionalProperties: {
        type: 'object',
        required: ['bytes', 'sha256'],
        properties: { bytes: { type: 'integer', minimum: 0 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      },
    },
  },
} as const;

/** A marker read from the server; throws when it is not one (a corrupt or foreign object). */
export function parseMarker(text: string, key: string): CommitMarker {
  const value = JSON.parse(text) as unknown;
  validateWithSchema(markerSchema, value, key, 'marker');
  return value as CommitMarker;
}
