import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** A named tensor copied out to plain memory, safe from later training steps. */
export interface SavedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Everything Adam needs to continue bit for bit: the slots, the step count and the running β powers. */
export interface OptimizerState {
  readonly kind: 'adam';
  readonly iterations: number;
  /** β₁ᵗ and β₂ᵗ as Adam accumulated them; recomputing them with pow() differs in the last bits. */
  readonly accBeta1: number;
  readonly accBeta2: number;
  readonly slots: readonly SavedTensor[];
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number;
}

function copy(name: string, tensor: tf.Tensor): SavedTensor {
  return { name, shape: [...tensor.shape], values: (tensor.dataSync() as Float32Array).slice() };
}

/** Copy the optimizer's state out of its tensors (synchronously, so no later step can leak in). */
export function captureOptimizer(optimizer: tf.Optimizer): OptimizerState {
  const adam = optimizer as unknown as AdamInternals & {
    accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
    accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
  };
  const slots = [...adam.accumulatedFirstMoment, ...adam.accumulatedSecondMoment].map((s) => copy(s.originalName, s.variable));
  return {
    kind: 'adam',
    iterations: adam.iterations_,
    accBeta1: adam.accBeta1.dataSync()[0]!,
    accBeta2: adam.accBeta2.dataSync()[0]!,
    slots,
  };
}

export async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  const weights = [
    { name: 'iter', tensor: tf.scalar(state.iterations, 'int32') },
    ...state.slots.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, [...s.shape], 'float32') })),
  ];
  await optimizer.setWeights(weights);
  for (const w of weights) w.tensor.dispose();
  const adam = optimizer as unknown as AdamInternals;
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(state.accBeta1));
    adam.accBeta2.assign(tf.scalar(state.accBeta2));
  });
}

export function captureWeights(model: LayersModel): SavedTensor[] {
  return model.weights.map((w) => copy(w.originalName, w.read()));
}

export function restoreWeights(model: LayersModel, saved: readonly SavedTensor[]): void {
  if (saved.length !== model.weights.length) {
    throw new Error(`weights: expected ${model.weights.length} tensors, got ${saved.length}`);
  }
  const tensors = saved.map((s, i) => {
    const expected = model.weights[i]!.shape;
    if (expected.join('x') !== s.shape.join('x')) {
      throw new Error(`weights: ${s.name} has shape [${s.shape}], the model expects [${expected}]`);
    }
    return tf.tensor(s.values, [...s.shape], 'float32');
  });
  model.setWeights(tensors);
  for (const t of tensors) t.dispose();
}

/** A tensor held by reference: O(1) to take, and immune to later steps because tfjs never writes a tensor in place. */
export interface TensorSnapshot {
  readonly name: string;
  readonly shape: readonly number[];
  /** A clone sharing the data of the moment it was taken; dispose it when done. */
  readonly tensor: tf.Tensor;
}

export interface OptimizerSnapshot {
  readonly kind: 'adam';
  readonly iterations: number;
  readonly accBeta1: number;
  readonly accBeta2: number;
  readonly slots: readonly TensorSnapshot[];
}

function snapshot(name: string, tensor: tf.Tensor): TensorSnapshot {
  return { name, shape: [...tensor.shape], tensor: tf.clone(tensor) };
}

/**
 * Weights by reference (clones). Training replaces a variable's data on each
 * step instead of overwriting it, so a clone keeps the values of this moment
 * while the data is read later, e.g. by a background save.
 */
export function snapshotWeights(model: LayersModel): TensorSnapshot[] {
  return model.weights.map((w) => snapshot(w.originalName, w.read()));
}

export function snapshotOptimizer(optimizer: tf.Optimizer): OptimizerSnapshot {
  const adam = optimizer as unknown as AdamInternals & {
    accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
    accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
  };
  return {
    kind: 'adam',
    iterations: adam.iterations_,
    accBeta1: adam.accBeta1.dataSync()[0]!,
    accBeta2: adam.accBeta2.dataSync()[0]!,
    slots: [...adam.accumulatedFirstMoment, ...adam.accumulatedSecondMoment].map((s) => snapshot(s.originalName, s.variable)),
  };
}
