import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';

/**
 * A file as metadata.json lists it: its size and its checksum. Since version 2 the
 * checksum is CRC-32C; version 1 recorded sha256, which is still checked when such
 * a checkpoint is loaded.
 */
export type FileRecord = { readonly bytes: number; readonly crc32c: string } | { readonly bytes: number; readonly sha256: string };

/** A checksum fed a file's bytes in order. */
export interface Checksum {
  update(bytes: Uint8Array): void;
  /** Lowercase hex. */
  hex(): string;
}

/**
 * CRC-32C (Castagnoli), as TensorFlow's checkpoints and cloud object stores use for
 * integrity. It runs at memory speed with the CPU's crc32 instruction, where sha256
 * took as long as writing the file (docs/checkpoints.md). Written as 8 hex digits,
 * most significant first.
 */
export function crc32cChecksum(): Checksum {
  let state = 0;
  return {
    update: (bytes) => void (state = crc32c(bytes, state)),
    hex: () => (state >>> 0).toString(16).padStart(8, '0'),
  };
}

function sha256Checksum(): Checksum {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
}

/** The checksum a record names, the value it expects, and a way to compute it. */
export function checksumFor(record: FileRecord): { name: 'crc32c' | 'sha256'; expected: string; create: () => Checksum } {
  return 'crc32c' in record
    ? { name: 'crc32c', expected: record.crc32c, create: crc32cChecksum }
    : { name: 'sha256', expected: record.sha256, create: sha256Checksum };
}

/** `crc32c 0a1b2c3d` or `sha256 …`, as `poke ckpt show` prints it. */
export function describeChecksum(record: FileRecord): string {
  const { name, expected } = checksumFor(record);
  return `${name} ${expected}`;
}
