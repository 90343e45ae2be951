import { open, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';

/** Write a file inside a not-yet-published checkpoint folder and fsync it; returns its sha256 and size. */
export async function writeSynced(path: string, data: Uint8Array | string): Promise<{ sha256: string; bytes: number }> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number; data: Buffer }> {
  const data = await readFile(path);
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength, data };
}

/** Float32 arrays laid end to end, little-endian, as in the tfjs weights format. */
export function concatFloat32(arrays: readonly Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  return out;
}

/** Split a buffer back into Float32 arrays of the given element counts (copies, so alignment never matters). */
export function splitFloat32(data: Uint8Array, counts: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  for (const n of counts) {
    const a = new Float32Array(n);
    new Uint8Array(a.buffer).set(data.subarray(offset, offset + n * 4));
    out.push(a);
    offset += n * 4;
  }
  return out;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
