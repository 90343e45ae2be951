import { UserError } from '../errors.js';
import { Rng, deriveSeed } from '../util/rng.js';

/** A batch of demonstrations: row-major features, the action taken, and which actions were legal. */
export interface Batch {
  readonly size: number;
  /** size × featureSize */
  readonly features: Float32Array;
  /** size; index of the action taken */
  readonly labels: Int32Array;
  /** size × actionCount; 1 where the action was legal */
  readonly masks: Uint8Array;
}

export interface Dataset {
  readonly size: number;
  readonly featureSize: number;
  readonly actionCount: number;
  /** Copy the samples at `indices` into one batch. */
  gather(indices: ArrayLike<number>): Batch;
  /** A dataset read as training goes (not held whole) chooses its validation split (splitIndices otherwise). */
  split?(valFraction: number, seed: number): Split;
  /** … and the order of an epoch (epochOrder otherwise); a function of (seed, epoch) all the same. */
  epochOrder?(train: Int32Array, seed: number, epoch: number): Int32Array;
  /** … and is awaited before gathering `order[from, to)`, to read what that needs. */
  prepare?(order: Int32Array, from: number, to: number): Promise<void>;
  /** The first invalid sample, if the dataset can say it cheaply (firstInvalidSample scans otherwise). */
  firstInvalidSample?(): { index: number; reason: string } | undefined;
  /** Let go of what reading needs (a reader thread, buffers); called by Trainer.dispose(). */
  close?(): void;
}

/** Samples as three flat arrays: the layout of a batch, a shard and an in-memory dataset. */
export type SampleArrays = Pick<Batch, 'features' | 'labels' | 'masks'>;

export function emptyBatch(size: number, featureSize: number, actionCount: number): Batch {
  return { size, features: new Float32Array(size * featureSize), labels: new Int32Array(size), masks: new Uint8Array(size * actionCount) };
}

/** Copy sample `r` of `from` into row `i` of `to` (the sizes follow from the label count). */
export function copySample(to: Batch, i: number, from: SampleArrays, r: number): void {
  const F = to.features.length / to.size;
  const A = to.masks.length / to.size;
  to.features.set(from.features.subarray(r * F, (r + 1) * F), i * F);
  to.masks.set(from.masks.subarray(r * A, (r + 1) * A), i * A);
  to.labels[i] = from.labels[r]!;
}

/** A dataset held in three flat typed arrays, the layout of the shard format. */
export class ArrayDataset implements Dataset {
  readonly size: number;

  constructor(
    readonly features: Float32Array,
    readonly labels: Int32Array,
    readonly masks: Uint8Array,
    readonly featureSize: number,
    readonly actionCount: number,
  ) {
    this.size = labels.length;
    if (features.length !== this.size * featureSize || masks.length !== this.size * actionCount) {
      throw new UserError(
        `dataset arrays disagree: ${this.size} labels, ${features.length} feature values (expected ${this.size * featureSize}), ` +
          `${masks.length} mask values (expected ${this.size * actionCount})`,
      );
    }
  }

  gather(indices: ArrayLike<number>): Batch {
    const batch = emptyBatch(indices.length, this.featureSize, this.actionCount);
    for (let i = 0; i < indices.length; i++) copySample(batch, i, this, indices[i]!);
    return batch;
  }

  /** See {@link firstInvalidSample}. */
  firstInvalidSample(): { index: number; reason: string } | undefined {
    return firstInvalidInBatch(this, this.actionCount, this.featureSize);
  }
}

/**
 * The first sample whose label is out of range or not a legal action, or whose
 * features hold a NaN or infinity; such a sample would make the masked loss
 * meaningless, and training would go on silently on garbage.
 */
export function firstInvalidSample(dataset: Dataset, chunk = 8192): { index: number; reason: string } | undefined {
  if (dataset.firstInvalidSample) return dataset.firstInvalidSample();
  for (let start = 0; start < dataset.size; start += chunk) {
    const indices = Int32Array.from({ length: Math.min(chunk, dataset.size - start) }, (_, i) => start + i);
    const invalid = firstInvalidInBatch(dataset.gather(indices), dataset.actionCount, dataset.featureSize);
    if (invalid) return { ...invalid, index: start + invalid.index };
  }
  return undefined;
}

export function firstInvalidInBatch(batch: Batch, A: number, F: number): { index: number; reason: string } | undefined {
  for (let i = 0; i < batch.size; i++) {
    const label = batch.labels[i]!;
    if (!(label >= 0 && label < A)) return { index: i, reason: `label ${label} is outside 0..${A - 1}` };
    if (batch.masks[i * A + label] !== 1) return { index: i, reason: `label ${label} is not a legal action in its mask` };
  }
  for (let i = 0; i < batch.features.length; i++) {
    if (!Number.isFinite(batch.features[i]!)) return { index: Math.floor(i / F), reason: 'a feature is NaN or infinite' };
  }
  return undefined;
}

export interface Split {
  readonly train: Int32Array;
  readonly val: Int32Array;
}

/** Deterministic train/validation split: the same seed and size always give the same indices. */
export function splitIndices(size: number, valFraction: number, seed: number): Split {
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  Rng.fromSeed(deriveSeed(seed, 'split')).shuffle(order);
  const valCount = valFraction > 0 ? Math.max(1, Math.round(size * valFraction)) : 0;
  const val = order.slice(0, valCount).sort();
  const train = order.slice(valCount).sort();
  return { train, val };
}

/** The order in which epoch `epoch` visits the training samples. Depends only on (seed, epoch). */
export function epochOrder(train: Int32Array, seed: number, epoch: number): Int32Array {
  return Rng.fromSeed(deriveSeed(seed, 'shuffle', epoch)).shuffle(train.slice());
}
