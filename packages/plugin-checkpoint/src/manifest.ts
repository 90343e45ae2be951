import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateWithSchema, writeJsonAtomic, isUserError, isBetter } from '@poke/core/light';
import type { MonitorMode } from '@poke/core/light';
import type { Manifest, ManifestEntry } from './types.js';
import { manifestSchema } from './json-schemas.js';
import { CheckpointError } from './errors.js';

export const MANIFEST_FILE = 'checkpoints.json';

export function emptyManifest(monitor: Manifest['monitor']): Manifest {
  return { format: 'poke-checkpoints', version: 1, monitor, entries: [], best: null, latest: null };
}

/** Read and validate checkpoints.json; undefined when there is none yet. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(join(dir, MANIFEST_FILE), undefined, `cannot read: ${(err as NodeJS.ErrnoException).code}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(join(dir, MANIFEST_FILE), undefined, `not valid JSON: ${(err as Error).message}`);
  }
  try {
    validateWithSchema(manifestSchema, value, join(dir, MANIFEST_FILE));
  } catch (err) {
    if (isUserError(err)) throw new CheckpointError(MANIFEST_FILE, undefined, (err as Error).message);
    throw err;
  }
  return value as Manifest;
}

export function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  return writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
}

/**
 * The best entry by its monitored value; entries saved between validations
 * (value null) never count, and on a tie the earlier checkpoint stays best.
 */
export function bestOf(entries: readonly ManifestEntry[], mode: MonitorMode): ManifestEntry | undefined {
  let best: ManifestEntry | undefined;
  for (const entry of [...entries].sort(byStep)) {
    if (entry.value === null || !Number.isFinite(entry.value)) continue;
    if (!best || isBetter(entry.value, best.value!, mode)) best = entry;
  }
  return best;
}

/** What orders checkpoints in time: a manifest entry, or anything shaped like one. */
export interface CheckpointOrder {
  readonly step: number;
  readonly epoch: number;
}

/** Oldest first: by global step, then by epoch (an end-of-epoch save follows the last step's save). */
export function byStep(a: CheckpointOrder, b: CheckpointOrder): number {
  return a.step - b.step || a.epoch - b.epoch;
}

export function latestOf(entries: readonly ManifestEntry[]): ManifestEntry | undefined {
  return [...entries].sort(byStep).at(-1);
}
