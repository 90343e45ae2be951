import { UserError } from '../errors.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { shardDecodedBytes } from './shard-file.js';
import { ShardReader } from './shard-reader.js';
import type { ShardIndex } from './shards.js';
import type { Batch, Dataset, SampleArrays, Split } from './dataset.js';
import { copySample, emptyBatch } from './dataset.js';

/** One shard file of a streamed dataset, and where its samples start in the whole. */
interface ShardRef {
  readonly dir: string;
  readonly index: ShardIndex;
  readonly entry: ShardIndex['shards'][number];
  readonly start: number;
  readonly bytes: number;
}

type Decoded = SampleArrays;

/** Where each shard is first and last needed in one order of samples. */
interface Plan {
  readonly order: Int32Array;
  /** Shards in the order they are first needed. */
  readonly sequence: number[];
  readonly first: Int32Array;
  readonly last: Int32Array;
}

/** Bytes as MB, 3 significant digits. */
const mb = (n: number): string => `${+(n / 2 ** 20).toPrecision(3)} MB`;

/**
 * Shard sets read as training goes, within a memory budget, rather than loaded
 * whole. An epoch visits the shards in a seeded order, a window of them at a
 * time, and the samples of a window in a seeded order: a function of (seed,
 * epoch), so an epoch resumed mid-way visits the same samples. While a window
 * trains, the next one is read (read-ahead, on a worker thread); a shard no
 * longer needed is dropped. Each shard is checked as it is read: size and
 * sha256 against the index, labels legal, features finite.
 */
export class ShardStream implements Dataset {
  readonly size: number;
  readonly featureSize: number;
  readonly actionCount: number;
  /** Shards per window: the budget holds two windows, the one training and the one read ahead. */
  readonly window: number;
  private readonly shards: ShardRef[];
  private readonly starts: Float64Array;
  private readonly resident = new Map<number, Decoded>();
  private readonly loading = new Map<number, Promise<Decoded>>();
  private plan: Plan | undefined;
  private readonly reader = new ShardReader();
  private failure: unknown;
  /** Counts close() calls: a read started before one neither lands nor fails the stream. */
  private opened = 0;

  /** Whether warnPastBudget has spoken: once a stream is enough. */
  private warnedPastBudget = false;

  constructor(
    sets: ReadonlyArray<{ dir: string; index: ShardIndex }>,
    private readonly budgetBytes: number,
    private readonly warn: (message: string) => void = () => {},
  ) {
    const { featureSize, actionCount } = sets[0]!.index;
    this.featureSize = featureSize;
    this.actionCount = actionCount;
    const shards: ShardRef[] = [];
    let start = 0;
    for (const set of sets) {
      for (const entry of set.index.shards) {
        if (entry.samples === 0) continue;
        shards.push({ dir: set.dir, index: set.index, entry, start, bytes: shardDecodedBytes(entry, set.index) });
        start += entry.samples;
      }
    }
    this.shards = shards;
    this.size = start;
    this.starts = Float64Array.from(shards, (s) => s.start);
    const largest = Math.max(...shards.map((s) => s.bytes));
    this.window = Math.floor(budgetBytes / (2 * largest));
    if (this.window < 1) {
      throw new UserError(
        `shards: a shard of ${mb(largest)} does not fit twice in data.memoryBudgetMB (${mb(budgetBytes)}): streaming holds the shards training and the ones read ahead`,
        `raise data.memoryBudgetMB to at least ${Math.ceil((2 * largest) / 2 ** 20)}, or write smaller shards`,
      );
    }
  }

  /** How many shard files the dataset has. */
  get shardCount(): number {
    return this.shards.length;
  }

  /** Bytes of decoded shards held now. */
  get residentBytes(): number {
    return this.bytesOf(this.resident.keys());
  }

  /** Bytes held now and being read into: what the budget bounds. */
  get heldBytes(): number {
    return this.bytesOf(new Set([...this.resident.keys(), ...this.loading.keys()]));
  }

  /**
   * Whole shards held out for validation, chosen by a seeded order of shards
   * until they hold `valFraction` of the samples: validation then reads a few
   * shards, not a sample from every one. At least one shard stays for training.
   */
  split(valFraction: number, seed: number): Split {
    const order = Rng.fromSeed(deriveSeed(seed, 'split')).shuffle(Int32Array.from(this.shards, (_, k) => k));
    const wanted = valFraction > 0 ? Math.max(1, Math.round(this.size * valFraction)) : 0;
    const val: number[] = [];
    let held = 0;
    for (const k of order) {
      if (held >= wanted || val.length === this.shards.length - 1) break;
      val.push(k);
      held += this.shards[k]!.entry.samples;
    }
    const isVal = new Set(val);
    return { train: this.samplesOf((k) => !isVal.has(k)), val: this.samplesOf((k) => isVal.has(k)) };
  }

  /**
   * The order epoch `epoch` visits `train`: shards in a seeded order, taken a
   * window at a time, and the window's training samples shuffled together.
   */
  epochOrder(train: Int32Array, seed: number, epoch: number): Int32Array {
    const rng = Rng.fromSeed(deriveSeed(seed, 'shuffle', epoch));
    const shardOrder = rng.shuffle(Int32Array.from(this.shards, (_, k) => k));
    const bounds = this.trainBounds(train);
    const order = new Int32Array(train.length);
    let at = 0;
    for (let w = 0; w < shardOrder.length; w += this.window) {
      const from = at;
      for (const k of shardOrder.subarray(w, w + this.window)) {
        order.set(train.subarray(bounds[k]!, bounds[k + 1]!), at);
        at += bounds[k + 1]! - bounds[k]!;
      }
      rng.shuffle(order.subarray(from, at));
    }
    return order;
  }

  /**
   * Have in memory the shards that `order[from, to)` needs, start reading the
   * ones needed next (as far as the budget allows), and drop every other. Await
   * it before gather().
   */
  async prepare(order: Int32Array, from: number, to: number): Promise<void> {
    if (this.failure) throw this.failure;
    const plan = this.planFor(order);
    const needed = plan.sequence.filter((k) => plan.first[k]! < to && plan.last[k]! >= from);
    this.warnPastBudget(needed, to - from);
    let keep = this.keepFor(plan, needed);
    // A read under way that is no longer wanted cannot be stopped: it counts against the budget until
    // it lands, and when the needed shards would not fit beside it, they wait for it to.
    const stray = [...this.loading.keys()].filter((k) => !keep.has(k));
    if (stray.length && this.bytesOf(new Set([...needed, ...stray])) > this.budgetBytes) {
      await Promise.allSettled(stray.map((k) => this.loading.get(k)));
      if (this.failure) throw this.failure;
      keep = this.keepFor(plan, needed);
    }
    // A shard this order needs later, beyond the read-ahead, is read again then: at a new epoch
    // the last window of the one before is still here, and the new epoch needs all of it later.
    for (const k of this.resident.keys()) if (!keep.has(k)) this.drop(k);
    for (const k of keep) this.load(k);
    for (const k of needed) if (!this.resident.has(k)) await this.loading.get(k);
    if (this.failure) throw this.failure;
  }

  gather(indices: ArrayLike<number>): Batch {
    const batch = emptyBatch(indices.length, this.featureSize, this.actionCount);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i]!;
      const k = this.shardOf(j);
      const shard = this.resident.get(k);
      if (!shard) throw new Error(`shards: sample ${j} was gathered before prepare() read its shard`);
      copySample(batch, i, shard, j - this.shards[k]!.start);
    }
    return batch;
  }

  /** Drop every shard held and end the reader thread; reads still under way are forgotten. */
  close(): void {
    this.opened++;
    this.resident.clear();
    this.loading.clear();
    this.reader.close();
  }

  /** Nothing to scan up front: each shard is checked as it is read. */
  firstInvalidSample(): undefined {
    return undefined;
  }

  private samplesOf(keep: (k: number) => boolean): Int32Array {
    const total = this.shards.reduce((n, s, k) => n + (keep(k) ? s.entry.samples : 0), 0);
    const out = new Int32Array(total);
    let at = 0;
    for (const [k, s] of this.shards.entries()) {
      if (!keep(k)) continue;
      for (let i = 0; i < s.entry.samples; i++) out[at++] = s.start + i;
    }
    return out;
  }

  /** For sorted `train`: bounds[k]..bounds[k+1] are the positions of shard k's samples. */
  private trainBounds(train: Int32Array): Int32Array {
    const bounds = new Int32Array(this.shards.length + 1);
    let at = 0;
    for (let k = 0; k < this.shards.length; k++) {
      bounds[k] = at;
      const end = this.shards[k]!.start + this.shards[k]!.entry.samples;
      while (at < train.length && train[at]! < end) at++;
    }
    bounds[this.shards.length] = train.length;
    return bounds;
  }

  private shardOf(sample: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= sample) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private planFor(order: Int32Array): Plan {
    if (this.plan?.order === order) return this.plan;
    const first = new Int32Array(this.shards.length).fill(-1);
    const last = new Int32Array(this.shards.length).fill(-1);
    const sequence: number[] = [];
    for (let p = 0; p < order.length; p++) {
      const k = this.shardOf(order[p]!);
      if (first[k] === -1) {
        first[k] = p;
        sequence.push(k);
      }
      last[k] = p;
    }
    this.plan = { order, sequence, first, last };
    return this.plan;
  }

  /**
   * The shards to hold: the `needed` ones, then those the plan needs next (the read-ahead) while
   * they fit in the budget beside the needed ones and every read still under way.
   */
  private keepFor(plan: Plan, needed: number[]): Set<number> {
    const keep = new Set(needed);
    let held = this.bytesOf(new Set([...needed, ...this.loading.keys()]));
    const after = plan.sequence.indexOf(needed.at(-1) ?? -1) + 1;
    for (const k of plan.sequence.slice(after)) {
      const more = this.loading.has(k) ? 0 : this.shards[k]!.bytes;
      if (held + more > this.budgetBytes) break;
      held += more;
      keep.add(k);
    }
    return keep;
  }

  /**
   * A batch whose shards alone pass the budget is read whole all the same (refusing it would stop
   * runs that work): say so once, with what keeps batches inside it.
   */
  private warnPastBudget(needed: number[], samples: number): void {
    if (this.warnedPastBudget) return;
    const bytes = this.bytesOf(needed);
    if (bytes <= this.budgetBytes) return;
    this.warnedPastBudget = true;
    const windowSamples = Math.floor((this.window * this.size) / this.shards.length);
    this.warn(
      `shards: a batch of ${samples} samples needs ${needed.length} shards (${mb(bytes)}), more than data.memoryBudgetMB (${mb(this.budgetBytes)}); ` +
        `they are read all the same. A batch of up to one window's samples (${this.window} shards, about ${windowSamples} samples) stays within the budget: ` +
        'lower train.batchSize (validation batches are at least 1024 samples), raise data.memoryBudgetMB, or write smaller shards',
    );
  }

  private bytesOf(shards: Iterable<number>): number {
    let total = 0;
    for (const k of shards) total += this.shards[k]!.bytes;
    return total;
  }

  /** Let go of shard k: its buffers go back to the reader, to be read into again. */
  private drop(k: number): void {
    const shard = this.resident.get(k);
    if (!shard) return;
    this.resident.delete(k);
    this.reader.recycle(shard);
  }

  private load(k: number): void {
    if (this.resident.has(k) || this.loading.has(k)) return;
    const ref = this.shards[k]!;
    const opened = this.opened;
    const loading = this.reader
      .read(ref.dir, ref.entry, ref.index)
      .then((decoded) => {
        if (opened === this.opened) this.resident.set(k, decoded);
        return decoded;
      })
      .catch((err: unknown) => {
        if (opened === this.opened) this.failure ??= err;
        throw err;
      })
      .finally(() => {
        if (opened === this.opened) this.loading.delete(k);
      });
    // A failure is reported by the next prepare(); an unawaited read-ahead must not crash the process.
    loading.catch(() => {});
    this.loading.set(k, loading);
  }
}
