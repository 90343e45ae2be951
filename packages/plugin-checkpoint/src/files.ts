import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { HeapBytes } from '@poke/core/internal';

/** I/O and hashing work in chunks this big, so that one overlaps the other. */
const CHUNK = 8 * 1024 * 1024;

/**
 * What a file is written from: bytes in memory, or a tensor's bytes on the wasm
 * heap, viewed a stretch at a time (each view valid only until the next await).
 */
export type Part = Uint8Array | HeapBytes;

interface Chunk {
  part: Part;
  offset: number;
  length: number;
}

function* chunks(parts: readonly Part[]): Generator<Chunk> {
  for (const part of parts) {
    for (let offset = 0; offset < part.byteLength; offset += CHUNK) yield { part, offset, length: Math.min(CHUNK, part.byteLength - offset) };
  }
}

/** Bytes enough for the largest chunk of a viewed part. */
function stagingSize(parts: readonly Part[]): number {
  return Math.min(CHUNK, Math.max(...parts.map((p) => (p instanceof Uint8Array ? 0 : p.byteLength))));
}

/** The chunk's bytes, valid until the next await. */
function bytesAt({ part, offset, length }: Chunk): Uint8Array {
  return part instanceof Uint8Array ? part.subarray(offset, offset + length) : part.view(offset, length);
}

/**
 * Write `parts` back to back into a new file inside a not-yet-published
 * checkpoint folder and fsync it; returns its sha256 and size.
 *
 * The bytes are written first, then hashed on this thread while libuv's pool
 * waits for the fsync: the disk's time and the hash's time overlap, and the
 * writes (page-cache copies) do not compete with the hash for memory
 * bandwidth. Hashing while writing, chunk by chunk, measured slower. The hash
 * yields between chunks, so a save in the background does not stall training
 * for the length of a whole file. The parts are snapshots nobody writes to, so
 * hashing them after the write hashes what was written. A viewed part is
 * copied chunk by chunk into one buffer (one per file) for the write, because
 * a view may not outlive the await. Copying into one buffer used again and again costs far
 * less than reading the part back whole into fresh memory, whose pages the
 * system must first hand over (docs/checkpoints.md).
 */
export async function writeSynced(path: string, data: readonly Part[] | Uint8Array | string): Promise<{ sha256: string; bytes: number }> {
  const parts = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
  const hash = createHash('sha256');
  const handle = await open(path, 'wx');
  let bytes = 0;
  let staging: Uint8Array | undefined;
  try {
    for (const chunk of chunks(parts)) {
      let out = bytesAt(chunk);
      if (!(chunk.part instanceof Uint8Array)) {
        staging ??= new Uint8Array(stagingSize(parts));
        staging.set(out);
        out = staging.subarray(0, chunk.length);
      }
      await writeAll(handle, out);
      bytes += chunk.length;
    }
    const syncing = handle.sync();
    // The fsync must be awaited even if hashing throws: no promise left unhandled.
    try {
      for (const chunk of chunks(parts)) {
        hash.update(bytesAt(chunk));
        await yieldToEventLoop();
      }
    } finally {
      await syncing;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Minimal file handle for {@link writeAll}: node's FileHandle, or a stand-in in tests. */
export interface Writable {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
}

/** Write all of `bytes`: a write may take fewer bytes than it was given, and the rest must follow. */
export async function writeAll(handle: Writable, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    if (bytesWritten <= 0) throw new Error(`a write took none of ${bytes.byteLength - done} bytes`);
    done += bytesWritten;
  }
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Read a whole file into one buffer, hashing each chunk while the next one is
 * read. The buffer has its own ArrayBuffer at offset 0, so float32 views on it
 * are aligned.
 */
export async function readHashed(path: string): Promise<{ sha256: string; data: Buffer }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const data = Buffer.allocUnsafeSlow(size);
    const hash = createHash('sha256');
    let offset = 0;
    let previous: Uint8Array | undefined;
    while (offset < size) {
      const length = Math.min(CHUNK, size - offset);
      const reading = handle.read(data, offset, length, offset);
      if (previous) hash.update(previous);
      const { bytesRead } = await reading;
      if (bytesRead === 0) throw new Error(`${path} shrank while being read`);
      previous = data.subarray(offset, offset + bytesRead);
      offset += bytesRead;
    }
    if (previous) hash.update(previous);
    return { sha256: hash.digest('hex'), data };
  } finally {
    await handle.close();
  }
}

export function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Float32 views over consecutive sections of `data` with the given element
 * counts; views share the buffer (no copy) when it is 4-byte aligned.
 */
export function splitFloat32(data: Uint8Array, counts: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  const aligned = data.byteOffset % 4 === 0;
  for (const n of counts) {
    if (aligned) out.push(new Float32Array(data.buffer, data.byteOffset + offset, n));
    else {
      const copy = new Float32Array(n);
      new Uint8Array(copy.buffer).set(data.subarray(offset, offset + n * 4));
      out.push(copy);
    }
    offset += n * 4;
  }
  return out;
}

export function concatFloat32(arrays: readonly Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(bytesOf(a), offset);
    offset += a.byteLength;
  }
  return out;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
