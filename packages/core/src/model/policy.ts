import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Activation } from '../config/schema.js';
import { deriveSeed } from '../util/rng.js';
import { activeNativeBackend } from '../backend/native-ops.js';
import { nativeMeanCrossEntropy } from '../backend/native-cross-entropy.js';
import { dropoutMultiplier } from './dropout.js';

export interface PolicySpec {
  readonly featureSize: number;
  readonly actionCount: number;
  readonly hiddenSizes: readonly number[];
  readonly activation: Activation;
  readonly dropout: number;
  readonly seed: number;
}

/** Added to the logits of illegal actions: their probability underflows to exactly 0. */
export const ILLEGAL_LOGIT = -1e9;

/**
 * The behaviour-cloning policy: an MLP from a state vector to one logit per
 * action. A tfjs LayersModel, so checkpoints are in the standard layers format.
 */
export function buildPolicy(spec: PolicySpec): tfl.LayersModel {
  const model = tfl.sequential({ name: 'poke_policy' });
  spec.hiddenSizes.forEach((units, i) => {
    model.add(
      tfl.layers.dense({
        ...(i === 0 ? { inputShape: [spec.featureSize] } : {}),
        units,
        activation: spec.activation,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(spec.seed, 'init', i) >>> 0 }),
        name: `hidden_${i}`,
      }),
    );
    if (spec.dropout > 0) model.add(tfl.layers.dropout({ rate: spec.dropout, name: `dropout_${i}` }));
  });
  model.add(
    tfl.layers.dense({
      ...(spec.hiddenSizes.length === 0 ? { inputShape: [spec.featureSize] } : {}),
      units: spec.actionCount,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(spec.seed, 'init', 'logits') >>> 0 }),
      name: 'logits',
    }),
  );
  return model;
}

/**
 * Forward pass. In training, dropout masks come from `dropoutSeed` rather than
 * tfjs's global RNG, so a run is reproducible and resumable bit for bit.
 */
export function forward(model: tfl.LayersModel, x: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D {
  let h: tf.Tensor = x;
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() === 'Dropout') {
      if (dropoutSeed !== undefined) {
        const rate = (layer.getConfig() as { rate: number }).rate;
        h = tf.mul(h, dropoutMultiplier(h.shape, rate, deriveSeed(dropoutSeed, i)));
      }
    } else {
      h = layer.apply(h) as tf.Tensor;
    }
  });
  return h as tf.Tensor2D;
}

/** Logits with illegal actions pushed to −1e9, so softmax and argmax never pick them. */
export function maskLogits(logits: tf.Tensor2D, masks: tf.Tensor2D): tf.Tensor2D {
  return tf.add(logits, tf.mul(tf.sub(masks, 1), -ILLEGAL_LOGIT));
}

function meanCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, actionCount: number): tf.Scalar {
  const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, actionCount)), 1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}

/** Mean masked softmax cross-entropy and the count of correct top-1 predictions over legal actions. */
export function lossAndCorrect(
  maskedLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  actionCount: number,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const native = activeNativeBackend();
  const loss = native ? nativeMeanCrossEntropy(native, maskedLogits, labels) : meanCrossEntropy(maskedLogits, labels, actionCount);
  return { loss, correct: countCorrect(maskedLogits, labels) };
}

/** How many rows' top-1 logit is their label. */
function countCorrect(maskedLogits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(maskedLogits, 1), labels), 'float32'));
}

/** The action the policy picks for each row: argmax over legal actions only. */
export function predictActions(model: tfl.LayersModel, features: tf.Tensor2D, masks: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(maskLogits(forward(model, features), masks), 1) as tf.Tensor1D);
}

export function countParameters(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}
