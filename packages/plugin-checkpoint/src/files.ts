import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { HeapBytes } from '@poke/core/internal';

/** Files are written, and read back for verification, this much at a time. */
const CHUNK = 8 * 1024 * 1024;
/** Writes queued on libuv's pool at once, so that it never waits for this thread to queue the next. */
const WRITES_QUEUED = 2;
/** The hash takes this much between turns of the event loop, so a write that ends is followed by the next at once. */
const HASH_SLICE = 2 * 1024 * 1024;

/**
 * What a file is written from: bytes in memory, or a tensor's bytes on the wasm
 * heap, viewed a stretch at a time (each view valid only until the next await).
 */
export type Part = Uint8Array | HeapBytes;

/** A file's parts in order, as a list or made one at a time as the write goes. */
export type Parts = Iterable<Part> | AsyncIterable<Part>;

interface Chunk {
  part: Part;
  offset: number;
  length: number;
}

async function* chunks(parts: Parts): AsyncGenerator<Chunk> {
  for await (const part of parts) {
    for (let offset = 0; offset < part.byteLength; offset += CHUNK) yield { part, offset, length: Math.min(CHUNK, part.byteLength - offset) };
  }
}

/** The chunk's bytes, valid until the next await. */
function bytesAt({ part, offset, length }: Chunk): Uint8Array {
  return part instanceof Uint8Array ? part.subarray(offset, offset + length) : part.view(offset, length);
}

/**
 * Write `parts` back to back into a new file inside a not-yet-published
 * checkpoint folder and fsync it; returns its sha256 and size.
 *
 * The writes go ahead on libuv's pool while this thread hashes what has been
 * handed to them, so a save takes about the longer of the two rather than
 * their sum (docs/checkpoints.md):
 * - when the page cache is slow, the hash follows just behind the writes and
 *   reads each chunk just after the write (or the copy out of the heap) has,
 *   from the cache rather than from memory;
 * - when it is fast, the writes run ahead and the fsync overlaps the rest of
 *   the hash.
 * Parts are made as the writes need them (a tensor read back, on
 * tensorflow). A chunk viewed on the wasm heap is copied into one of two
 * buffers for its write, since a view may not outlive an await, and viewed
 * again for the hash. The hash turns the event loop after every 2 MiB, so a
 * save in the background lets training run in between. The hash may end
 * after the fsync, so parts in memory must not change until this returns.
 */
export async function writeSynced(path: string, data: Parts | Uint8Array | string): Promise<{ sha256: string; bytes: number }> {
  const parts = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
  const handle = await open(path, 'wx');
  const hasher = new ChunkHasher();
  try {
    const bytes = await writeChunks(handle, chunks(parts), hasher);
    hasher.end();
    return { sha256: await hasher.done, bytes };
  } catch (error) {
    hasher.stop();
    await hasher.done.catch(() => {});
    throw error;
  } finally {
    await handle.close();
  }
}

/** Queues the chunks' writes, each at its place in the file, handing each to the hash as it is queued; fsyncs; returns the size. */
async function writeChunks(handle: Writable & { sync(): Promise<void> }, source: AsyncIterable<Chunk>, hasher: ChunkHasher): Promise<number> {
  const staging: Uint8Array[] = [];
  const queued: Array<Promise<void>> = [];
  let position = 0;
  let k = 0;
  try {
    for await (const chunk of source) {
      if (queued.length === WRITES_QUEUED) await queued.shift();
      hasher.throwIfFailed();
      let out = bytesAt(chunk);
      if (!(chunk.part instanceof Uint8Array)) {
        // The write that used this buffer last is the one just awaited. Sized to the largest
        // chunk so far, so that a small model's save does not take 8 MiB buffers.
        const i = k % WRITES_QUEUED;
        if ((staging[i]?.byteLength ?? 0) < chunk.length) staging[i] = new Uint8Array(chunk.length);
        staging[i].set(out);
        out = staging[i].subarray(0, chunk.length);
      }
      const write = writeAll(handle, out, position);
      // Handled here so that a failure is not reported as unhandled before its turn to be awaited.
      write.catch(() => {});
      queued.push(write);
      hasher.add(chunk);
      position += chunk.length;
      k++;
    }
    while (queued.length) await queued.shift();
  } finally {
    // Nothing may still be writing when the file is closed.
    await Promise.allSettled(queued);
  }
  await handle.sync();
  return position;
}

/**
 * sha256 of the chunks handed to it, in order, on this thread, a slice at a
 * time with a turn of the event loop after each; `done` settles with the
 * hex digest once `end` is called and every chunk is hashed.
 */
class ChunkHasher {
  readonly done: Promise<string>;
  private readonly hash = createHash('sha256');
  private readonly queue: Chunk[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private stopped = false;
  private failure: { error: unknown } | undefined;

  constructor() {
    this.done = this.run();
    this.done.catch((error: unknown) => (this.failure = { error }));
  }

  add(chunk: Chunk): void {
    this.queue.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** Gives up: `done` settles without hashing the rest. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Lets the writes stop as soon as the hash has failed. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private async run(): Promise<string> {
    for (;;) {
      if (this.stopped) return '';
      const chunk = this.queue.shift();
      if (!chunk) {
        if (this.ended) return this.hash.digest('hex');
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      for (let at = 0; at < chunk.length && !this.stopped; at += HASH_SLICE) {
        this.hash.update(bytesAt({ part: chunk.part, offset: chunk.offset + at, length: Math.min(HASH_SLICE, chunk.length - at) }));
        await yieldToEventLoop();
      }
    }
  }
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
