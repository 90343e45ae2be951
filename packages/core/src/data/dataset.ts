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
    const n = indices.length;
    const F = this.featureSize;
    const A = this.actionCount;
    const features = new Float32Array(n * F);
    const labels = new Int32Array(n);
    const masks = new Uint8Array(n * A);
    for (let i = 0; i < n; i++) {
      const j = indices[i]!;
      features.set(this.features.subarray(j * F, (j + 1) * F), i * F);
      masks.set(this.masks.subarray(j * A, (j + 1) * A), i * A);
      labels[i] = this.labels[j]!;
    }
    return { size: n, features, labels, masks };
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
  if (dataset instanceof ArrayDataset) return dataset.firstInvalidSample();
  for (let start = 0; start < dataset.size; start += chunk) {
    const indices = Int32Array.from({ length: Math.min(chunk, dataset.size - start) }, (_, i) => start + i);
    const invalid = firstInvalidInBatch(dataset.gather(indices), dataset.actionCount, dataset.featureSize);
    if (invalid) return { ...invalid, index: start + invalid.index };
  }
  return undefined;
}

function firstInvalidInBatch(batch: Batch, A: number, F: number): { index: number; reason: string } | undefined {
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
