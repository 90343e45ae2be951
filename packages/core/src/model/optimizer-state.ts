import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { FlatAdam } from './flat-adam.js';
import type { NamedSlot } from './flat-adam.js';

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

function copy(name: string, tensor: tf.Tensor): SavedTensor {
  return { name, shape: [...tensor.shape], values: (tensor.dataSync() as Float32Array).slice() };
}

/** The optimizer the Trainer makes; anything else has no state poke knows how to save. */
function flatAdam(optimizer: tf.Optimizer): FlatAdam {
  if (optimizer instanceof FlatAdam) return optimizer;
  throw new Error(`optimizer: expected poke's Adam (FlatAdam), got ${optimizer.getClassName()}`);
}

/** Copy the optimizer's state out of its tensors (synchronously, so no later step can leak in). */
export function captureOptimizer(optimizer: tf.Optimizer): OptimizerState {
  const adam = flatAdam(optimizer);
  // The buffers' data, one after the other, is the slots' in order.
  const data = adam.slotBuffers().map((b) => b.dataSync() as Float32Array);
  let buffer = 0;
  let at = 0;
  const slots = adam.slotNames().map((slot) => {
    const size = tf.util.sizeFromShape([...slot.shape]);
    if (at === data[buffer]!.length) [buffer, at] = [buffer + 1, 0];
    return { name: slot.name, shape: slot.shape, values: data[buffer]!.slice(at, (at += size)) };
  });
  return { kind: 'adam', iterations: adam.iterations, ...adam.betaPowers(), slots };
}

export async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  flatAdam(optimizer).restore(state);
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

/**
 * A tensor held by reference: O(1) to take, and immune to later steps, because
 * tfjs gives a variable new data rather than overwriting it, and TensorFlow
 * copies a buffer that an update would write in place while a reference holds it.
 */
export interface TensorSnapshot {
  readonly name: string;
  readonly shape: readonly number[];
  /** A second reference to the data of the moment it was taken; dispose it when done. */
  readonly tensor: tf.Tensor;
}

export interface OptimizerSnapshot {
  readonly kind: 'adam';
  readonly iterations: number;
  readonly accBeta1: number;
  readonly accBeta2: number;
  /** The slots' names and shapes, first moments then second. */
  readonly slots: readonly NamedSlot[];
  /** References to the flat moment buffers: their data, concatenated, is the slots' in order. Dispose them when done. */
  readonly buffers: readonly tf.Tensor[];
}

/**
 * A new tensor on the same data, never a copy. `tf.clone` would do on cpu and
 * tensorflow, but wasm's clone copies the whole buffer on the training thread
 * (about 18 ms for 182 MB), while every backend's Reshape only adds a reference.
 */
function reference(tensor: tf.Tensor): tf.Tensor {
  return tf.reshape(tensor, tensor.shape);
}

function snapshot(name: string, tensor: tf.Tensor): TensorSnapshot {
  return { name, shape: [...tensor.shape], tensor: reference(tensor) };
}

/**
 * Weights by reference. Training replaces a variable's data on each
 * step instead of overwriting it, so a reference keeps the values of this moment
 * while the data is read later, e.g. by a background save.
 */
export function snapshotWeights(model: LayersModel): TensorSnapshot[] {
  return model.weights.map((w) => snapshot(w.originalName, w.read()));
}

export function snapshotOptimizer(optimizer: tf.Optimizer): OptimizerSnapshot {
  const adam = flatAdam(optimizer);
  return {
    kind: 'adam',
    iterations: adam.iterations,
    ...adam.betaPowers(),
    slots: adam.slotNames(),
    buffers: adam.slotBuffers().map(reference),
  };
}
