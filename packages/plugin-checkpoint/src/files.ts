import { open } from 'node:fs/promises';
import type { HeldBytes } from '@poke/core/internal';
import { crc32cChecksum } from './checksum.js';
import type { Checksum } from './checksum.js';

/**
 * Files are written this much at a time, with this many writes queued on libuv's pool,
 * so that it never waits for this thread to queue the next. Small enough that the
 * chunks in flight stay in the CPU's cache while the write copies them into the page
 * cache: 8 MiB with 2 queued, and a chunk copied out of the wasm heap first, took
 * up to twice as long as plain fs when the page cache was fast (docs/checkpoints.md).
 */
export const WRITE_CHUNK = 1024 * 1024;
export const WRITES_QUEUED = 4;
/** Files are read back for verification this much at a time. */
const READ_CHUNK = 8 * 1024 * 1024;

/**
 * What a file is written from: bytes in memory, or a tensor's bytes where its
 * backend holds them (the wasm heap, TensorFlow), copied out a chunk at a time.
 */
export type Part = Uint8Array | HeldBytes;

/** A file's parts in order, as a list or made one at a time as the write goes. */
export type Parts = Iterable<Part> | AsyncIterable<Part>;

interface Chunk {
  part: Part;
  offset: number;
  length: number;
}

async function* chunks(parts: Parts): AsyncGenerator<Chunk> {
  for await (const part of parts) {
    for (let offset = 0; offset < part.byteLength; offset += WRITE_CHUNK) yield { part, offset, length: Math.min(WRITE_CHUNK, part.byteLength - offset) };
  }
}

/**
 * Write `parts` back to back into a new file inside a not-yet-published
 * checkpoint folder; returns its CRC-32C and size once the bytes are written,
 * with `synced`, which settles once the file is fsynced and closed. The fsync
 * is left running so that the next file's writes overlap this one's way to
 * the disk: the caller must await `synced` before the folder is published.
 *
 * The writes go ahead on libuv's pool, WRITES_QUEUED at once, while this
 * thread makes the next part (a tensor read back, where it is not held) and
 * checksums each chunk just after its write is queued, so both read it while
 * it is in the CPU's cache (docs/checkpoints.md). A chunk of held bytes is
 * copied into one of WRITES_QUEUED buffers that the writes take turns with,
 * and the copy is what is written and checksummed. Parts in memory must not
 * change until this returns.
 */
export async function writeUnsynced(path: string, data: Parts | Uint8Array | string): Promise<{ crc32c: string; bytes: number; synced: Promise<void> }> {
  const parts = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
  const handle = await open(path, 'wx');
  const checksum = crc32cChecksum();
  let bytes: number;
  try {
    bytes = await writeChunks(handle, chunks(parts), checksum);
  } catch (err) {
    return closeAndThrow(handle, err);
  }
  const synced = handle.sync().then(
    () => handle.close(),
    (err: unknown) => closeAndThrow(handle, err),
  );
  // Handled here so that a failure is not reported as unhandled before the caller awaits it.
  synced.catch(() => {});
  return { crc32c: checksum.hex(), bytes, synced };
}

/** Close `handle` and fail with `err`, not with an error of the close: a full disk must still read as one. */
async function closeAndThrow(handle: { close(): Promise<void> }, err: unknown): Promise<never> {
  await handle.close().catch(() => {});
  throw err;
}

/**
 * Wait until every one of `syncs` has settled, so that no file is still open,
 * then fail with the first failure among them, if any.
 */
export async function settleAll(syncs: ReadonlyArray<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(syncs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Queues the chunks' writes, each at its place in the file, checksumming each once it is queued; returns the size once all are written. */
async function writeChunks(handle: Writable, source: AsyncIterable<Chunk>, checksum: Checksum): Promise<number> {
  const staging: Uint8Array[] = [];
  const queued: Array<Promise<void>> = [];
  let position = 0;
  let k = 0;
  try {
    for await (const { part, offset, length } of source) {
      if (queued.length === WRITES_QUEUED) await queued.shift();
      let out: Uint8Array;
      if (part instanceof Uint8Array) out = part.subarray(offset, offset + length);
      else {
        // The write that used this buffer last is the one just awaited. Sized to the largest
        // chunk so far, so that a small model's save does not take 1 MiB buffers.
        const i = k % WRITES_QUEUED;
        if ((staging[i]?.byteLength ?? 0) < length) staging[i] = new Uint8Array(length);
        out = staging[i].subarray(0, length);
        part.copyTo(out, offset);
      }
      const write = writeAll(handle, out, position);
      // Handled here so that a failure is not reported as unhandled before its turn to be awaited.
      write.catch(() => {});
      queued.push(write);
      checksum.update(out);
      position += length;
      k++;
    }
    while (queued.length) await queued.shift();
  } finally {
    // Nothing may still be writing when the file is closed.
    await Promise.allSettled(queued);
  }
  return position;
}

/** Minimal file handle for {@link writeAll}: node's FileHandle, or a stand-in in tests. */
export interface Writable {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

/** Write all of `bytes` at `position`: a write may take fewer bytes than it was given, and the rest must follow. */
export async function writeAll(handle: Writable, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    if (bytesWritten <= 0) throw new Error(`a write took none of ${bytes.byteLength - done} bytes`);
    done += bytesWritten;
  }
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Read a whole file into one buffer, feeding each chunk to `checksum` while
 * the next one is read. The buffer has its own ArrayBuffer at offset 0, so
 * float32 views on it are aligned.
 */
export async function readChecksummed(path: string, checksum: Checksum): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const data = Buffer.allocUnsafeSlow(size);
    let offset = 0;
    let previous: Uint8Array | undefined;
    while (offset < size) {
      const length = Math.min(READ_CHUNK, size - offset);
      const reading = handle.read(data, offset, length, offset);
      if (previous) checksum.update(previous);
      const { bytesRead } = await reading;
      if (bytesRead === 0) throw new Error(`${path} shrank while being read`);
      previous = data.subarray(offset, offset + bytesRead);
      offset += bytesRead;
    }
    if (previous) checksum.update(previous);
    return data;
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
