import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { SampleArrays } from './dataset.js';
import type { ReadReply, ReadRequest, RecycleRequest } from './shard-reader-worker.js';

/**
 * Reads shards on a worker thread: reading, hashing and checking a shard of
 * hundreds of megabytes would otherwise stall training for as long. The decoded
 * arrays come back transferred, not copied. The worker keeps the process
 * alive only while a read is pending.
 */
export class ShardReader {
  private worker: Worker | undefined;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (d: SampleArrays) => void; reject: (e: unknown) => void }>();

  read(dir: string, entry: ReadRequest['entry'], shape: ReadRequest['shape']): Promise<SampleArrays> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const worker = this.started();
      // Held while a read is pending, so the process waits for it; idle, it keeps nothing alive.
      worker.ref();
      worker.postMessage({ type: 'read', id, dir, entry, shape } satisfies ReadRequest);
    });
  }

  /**
   * Hand a shard's buffer back to be read into again: its three arrays are views of
   * one buffer (readShardFile). It is transferred:
   * every view of it left on this thread is emptied, so a stale one reads nothing
   * rather than another shard's samples.
   */
  recycle(arrays: SampleArrays): void {
    const buffer = arrays.masks.buffer;
    if (!this.worker || !(buffer instanceof ArrayBuffer)) return;
    this.worker.postMessage({ type: 'recycle', buffer } satisfies RecycleRequest, [buffer]);
  }

  /** End the reader thread and its spare buffers; a read after this starts a new one. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    this.failAll(new Error('the shard reader was closed'));
    void worker.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./shard-reader-worker.js', import.meta.url));
    worker.on('message', (reply: ReadReply) => this.settle(reply));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      // A reader closed and started again has a new thread by the time the old one's exit arrives.
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.pending.size) this.failAll(new Error(`the shard reader thread exited (code ${code})`));
    });
    // After the listeners, since attaching one refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: ReadReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in reply) {
      const { message, hint, user } = reply.error;
      waiting.reject(user ? new UserError(message, hint) : new Error(message));
    } else {
      waiting.resolve({ features: reply.features, labels: reply.labels, masks: reply.masks });
    }
  }

  private failAll(err: unknown): void {
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }
}
