import { readFile } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { validateWithSchema, isUserError } from '@poke/core/light';
import type { CheckpointMetadata } from './types.js';
import { CheckpointError } from './errors.js';
import { METADATA_FILE, metadataSchema } from './json-schemas.js';

/** A checkpoint file's JSON (from `data` when it was already read and checksummed), or an error naming the checkpoint and the file. */
export async function readJson(dir: string, id: string, file: string, data?: Buffer): Promise<unknown> {
  let text: string;
  try {
    text = (data ?? (await readFile(join(dir, file)))).toString('utf8');
  } catch (err) {
    throw new CheckpointError(id, file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(id, file, `not valid JSON: ${(err as Error).message}`);
  }
}

/** `value` as a `T` once it passes `schema`; a failure names the checkpoint, as a user's mistake. */
export function checked<T>(schema: object, value: unknown, id: string, file: string): T {
  try {
    validateWithSchema(schema, value, file);
  } catch (err) {
    if (isUserError(err)) throw new CheckpointError(id, undefined, (err as Error).message);
    throw err;
  }
  return value as T;
}

/** metadata.json of the checkpoint folder `dir`, checked against its schema; reads nothing else. */
export async function readMetadata(dir: string): Promise<CheckpointMetadata> {
  const id = basename(dir);
  return checked<CheckpointMetadata>(metadataSchema, await readJson(dir, id, METADATA_FILE), id, METADATA_FILE);
}
