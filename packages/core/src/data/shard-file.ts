import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { SampleArrays } from './dataset.js';
import { decodeFeaturesInto, featureBytes } from './encoding.js';
import type { CompactEncoding, FeatureEncoding } from './encoding.js';

/** What reading a shard file needs of its set's index.json (ShardIndex in shards.ts). */
export interface ShardShape {
  featureSize: number;
  actionCount: number;
  /** How features are stored; absent means float32. */
  encoding?: FeatureEncoding;
}

/** One shard file as index.json lists it. */
export interface ShardEntry {
  file: string;
  samples: number;
  sha256?: string;
}

/** Bytes of one sample in a shard file. */
export function bytesPerSample(index: ShardShape): number {
  return featureBytes(index.encoding, index.featureSize) + 4 + index.actionCount;
}

/** Bytes of one sample once read: features as float32. */
export function decodedBytesPerSample(index: ShardShape): number {
  return index.featureSize * 4 + 4 + index.actionCount;
}

/** Bytes of one shard file as the index describes it. */
export function shardFileBytes(shard: ShardEntry, index: ShardShape): number {
  return shard.samples * bytesPerSample(index);
}

/** Bytes of one shard once read: the one buffer readShardFile returns its arrays in. */
export function shardDecodedBytes(shard: ShardEntry, index: ShardShape): number {
  return shard.samples * decodedBytesPerSample(index);
}

export function wrongSize(path: string, size: number, shard: ShardEntry, index: ShardShape): UserError {
  return new UserError(`shards: ${path} has ${size} bytes, expected ${shardFileBytes(shard, index)} for ${shard.samples} samples`);
}

export interface ReadShardOptions {
  /** A buffer of shardDecodedBytes, used before, to read into rather than fresh memory. */
  readonly into?: ArrayBuffer;
  /**
   * Compact features are read and decoded this many bytes at a time (8 MiB; even, a
   * multiple of every encoding's width), so reading a shard holds no buffer of the
   * file's size beside the decoded one.
   */
  readonly chunkBytes?: number;
}

/**
 * Read one shard file, check its size and sha256 against the index, and decode it
 * into one buffer laid out as a float32 shard (features, labels, masks): a shard
 * read holds exactly shardDecodedBytes, the figure data.memoryBudgetMB counts.
 * With `into`, the shard is read into a buffer used before rather than into fresh
 * memory, whose pages the system must first hand over: on some machines that costs
 * more than the read itself (docs/data.md).
 */
export async function readShardFile(dir: string, shard: ShardEntry, index: ShardShape, options: ReadShardOptions = {}): Promise<SampleArrays> {
  const path = join(dir, shard.file);
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw cannotRead(path, err);
  });
  try {
    return await readOpenShard(handle, path, shard, index, options);
  } catch (err) {
    throw cannotRead(path, err);
  } finally {
    // A failing close must not hide why the read failed; what was read is whole either way.
    await handle.close().catch(() => {});
  }
}

/** The file system's errors (ENOENT, EIO, …) as the user's, naming the file; anything else (a fault, no memory) as it is. */
function cannotRead(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && !(err instanceof UserError) ? new UserError(`shards: cannot read ${path}: ${code}`) : err;
}

async function readOpenShard(handle: FileHandle, path: string, shard: ShardEntry, index: ShardShape, { into, chunkBytes = 8 * 2 ** 20 }: ReadShardOptions): Promise<SampleArrays> {
  const { size } = await handle.stat();
  if (size !== shardFileBytes(shard, index)) throw wrongSize(path, size, shard, index);
  const decodedBytes = shardDecodedBytes(shard, index);
  const buffer = into?.byteLength === decodedBytes ? into : Buffer.allocUnsafeSlow(decodedBytes).buffer;
  const { featureSize: F, actionCount: A } = index;
  const n = shard.samples;
  const hash = shard.sha256 ? createHash('sha256') : undefined;
  // A file cut short while it is read reports the bytes it still had.
  const span = { handle, hash, short: (at: number) => wrongSize(path, at, shard, index) };
  const features = new Float32Array(buffer, 0, n * F);
  const storedFeatureBytes = featureBytes(index.encoding, F) * n;
  const { encoding } = index;
  if (!encoding || encoding.type === 'float32') await readSpan(span, new Uint8Array(buffer, 0, storedFeatureBytes), 0);
  else await readCompactFeatures(span, features, storedFeatureBytes, F, encoding, chunkBytes);
  // Labels and masks are stored as they are read back, one span after the features.
  await readSpan(span, new Uint8Array(buffer, n * F * 4, n * (4 + A)), storedFeatureBytes);
  if (hash && hash.digest('hex') !== shard.sha256) throw new UserError(`shards: ${path} does not match its sha256 in index.json (altered or corrupt)`);
  return { features, labels: new Int32Array(buffer, n * F * 4, n), masks: new Uint8Array(buffer, n * F * 4 + n * 4, n * A) };
}

/** What readSpan needs of a file: node's FileHandle, or a stand-in in tests. */
export interface PositionalReader {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

export interface Span {
  readonly handle: PositionalReader;
  readonly hash: Hash | undefined;
  readonly short: (at: number) => Error;
}

/** Fill `into` from the file at `position`, hashing the bytes in file order; a read may return fewer bytes than asked. */
export async function readSpan({ handle, hash, short }: Span, into: Uint8Array, position: number): Promise<void> {
  for (let at = 0; at < into.length; ) {
    const { bytesRead } = await handle.read(into, at, into.length - at, position + at);
    if (bytesRead === 0) throw short(position + at);
    at += bytesRead;
  }
  hash?.update(into);
}

async function readCompactFeatures(span: Span, out: Float32Array, storedBytes: number, featureSize: number, encoding: CompactEncoding, chunkBytes: number): Promise<void> {
  const width = featureBytes(encoding, 1);
  const whole = Number.isFinite(chunkBytes) ? Math.max(width, Math.floor(chunkBytes / width) * width) : storedBytes;
  const chunk = new Uint8Array(Math.min(whole, storedBytes));
  for (let at = 0; at < storedBytes; at += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, storedBytes - at));
    await readSpan(span, piece, at);
    decodeFeaturesInto(piece, out, at / width, featureSize, encoding);
  }
}
