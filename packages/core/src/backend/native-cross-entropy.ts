import * as tf from '@tensorflow/tfjs-core';
import { typeAttr } from './native-ops.js';
import type { NativeBackend } from './native-ops.js';

/**
 * The mean softmax cross-entropy of `logits` against `labels` as TensorFlow's
 * fused SparseSoftmaxCrossEntropyWithLogits, which also returns the gradient
 * (softmax − one-hot). tfjs builds the same loss from a log-softmax, a one-hot,
 * a product, a sum and a mean, and its gradient from as many again: about
 * twenty kernels a step that this makes one, ≈1.8 ms of a 19 ms step of the
 * reference MLP. The values are tfjs's up to float rounding. Labels must be
 * actions in range (datasets are checked before training).
 */
export function nativeMeanCrossEntropy(native: NativeBackend, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const attrs = [typeAttr(native, 'T'), typeAttr(native, 'Tlabels', 'int32')];
  // customGrad passes the inputs, then the function that keeps tensors for the gradient.
  const mean = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [losses, gradient] = native.executeMultipleOutputs('SparseSoftmaxCrossEntropyWithLogits', attrs, [x, labels], 2);
    save([gradient!]);
    return { value: tf.mean(losses!), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0]!, tf.div(dy, x.shape[0]!)) };
  });
  return mean(logits) as tf.Scalar;
}
