import { parentPort } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { readShardFile, shardDecodedBytes } from './shard-file.js';
import type { ShardIndex } from './shards.js';
import { firstInvalidInBatch } from './dataset.js';

export interface ReadRequest {
  readonly type: 'read';
  readonly id: number;
  readonly dir: string;
  readonly entry: ShardIndex['shards'][number];
  readonly shape: Pick<ShardIndex, 'featureSize' | 'actionCount' | 'encoding'>;
}

/** The file buffer of a shard the training thread no longer holds, transferred back to be read into again. */
export interface RecycleRequest {
  readonly type: 'recycle';
  readonly buffer: ArrayBuffer;
}

export type ReadReply =
  | { readonly id: number; readonly features: Float32Array; readonly labels: Int32Array; readonly masks: Uint8Array }
  | { readonly id: number; readonly error: { readonly message: string; readonly hint?: string; readonly user: boolean } };

/**
 * Shards held in training and read ahead balance the ones handed back, so a few spares are
 * enough. The newest are kept: an odd-sized one (a set's shorter last shard) must not hold a
 * place for good.
 */
const MAX_SPARES = 2;
const spares: ArrayBuffer[] = [];

/** A spare buffer of `bytes`, taken out of the spares, if there is one. */
function spare(bytes: number): ArrayBuffer | undefined {
  const at = spares.findIndex((b) => b.byteLength === bytes);
  return at < 0 ? undefined : spares.splice(at, 1)[0];
}

/** Read, verify (size, sha256, labels, finite features) and decode one shard, off the training thread. */
async function read({ dir, entry, shape }: ReadRequest): Promise<{ features: Float32Array; labels: Int32Array; masks: Uint8Array }> {
  const decoded = await readShardFile(dir, entry, shape, { into: spare(shardDecodedBytes(entry, shape)) });
  const invalid = firstInvalidInBatch({ size: entry.samples, ...decoded }, shape.actionCount, shape.featureSize);
  if (invalid) throw new UserError(`shards: ${join(dir, entry.file)}: sample ${invalid.index}: ${invalid.reason}`, 'fix or remove that shard; the run can be resumed');
  return decoded;
}

/**
 * Hashing, decoding and checking shards can wait: the next window is read with a whole
 * window's training to spare. Training cannot: a step waits for the slowest of the
 * compute threads, and one that loses its core to this thread stalls the step. So on
 * Linux, where a thread has its own niceness, this thread yields to them; when training
 * waits for a shard, its threads are idle and this one gets the cores anyway. The reads
 * themselves run on libuv's thread pool, shared with the process, at its priority.
 */
const NICER_BY = 10;

function yieldToTraining(): void {
  try {
    // `/proc/thread-self` links to `<pid>/task/<tid>`; setpriority on a tid sets that thread alone.
    // A new thread starts at its creator's niceness, which getPriority() reads.
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').at(-1)), Math.min(19, getPriority() + NICER_BY));
  } catch {
    // Not Linux, or not allowed: the thread runs at the process's priority, as it would anyway.
  }
}

yieldToTraining();

parentPort!.on('message', (request: ReadRequest | RecycleRequest) => {
  if (request.type === 'recycle') {
    spares.push(request.buffer);
    if (spares.length > MAX_SPARES) spares.shift();
    return;
  }
  read(request).then(
    (decoded) => {
      const buffers = [...new Set([decoded.features.buffer, decoded.labels.buffer, decoded.masks.buffer])] as ArrayBuffer[];
      parentPort!.postMessage({ id: request.id, ...decoded } satisfies ReadReply, buffers);
    },
    (err: unknown) => {
      const e = err as UserError;
      parentPort!.postMessage({ id: request.id, error: { message: e.message ?? String(err), ...(e.hint ? { hint: e.hint } : {}), user: e instanceof UserError } } satisfies ReadReply);
    },
  );
});
