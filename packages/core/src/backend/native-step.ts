import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countCorrect, maskLogits } from '../model/policy.js';
import { dropoutMultiplier } from '../model/dropout.js';
import { deriveSeed } from '../util/rng.js';
import { meanCrossEntropyGradient, nativeCrossEntropy } from './native-cross-entropy.js';
import { activeNativeBackend, typeAttr } from './native-ops.js';
import type { NativeBackend } from './native-ops.js';

/** One optimizer step on a batch (features, labels, 0/1 masks); the loss and the count of correct predictions before it. */
export type TrainStep = (x: tf.Tensor2D, y: tf.Tensor1D, masks: tf.Tensor2D, dropoutSeed: number) => { loss: tf.Scalar; correct: tf.Scalar };

interface ActivationOps {
  forward(z: tf.Tensor2D): tf.Tensor2D;
  /** The gradient through the activation, from its output `y`: TensorFlow's own op for it. */
  gradient(native: NativeBackend, dy: tf.Tensor, y: tf.Tensor): tf.Tensor;
}

const gradientOp = (op: string, yFirst = false): ActivationOps['gradient'] => (native, dy, y) =>
  native.executeSingleOutput(op, [typeAttr(native, 'T')], yFirst ? [y, dy] : [dy, y]);

/** The policy's activations that TensorFlow can differentiate from their output in one op; gelu has none. */
const ACTIVATIONS: Readonly<Record<string, ActivationOps>> = Object.freeze({
  relu: { forward: (z) => tf.relu(z), gradient: gradientOp('ReluGrad') },
  elu: { forward: (z) => tf.elu(z), gradient: gradientOp('EluGrad') },
  selu: { forward: (z) => tf.selu(z), gradient: gradientOp('SeluGrad') },
  tanh: { forward: (z) => tf.tanh(z), gradient: gradientOp('TanhGrad', true) },
});

interface DenseLayer {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly activation: ActivationOps | undefined;
  /** The dropout layer after it: its rate, and its index in the model, from which its mask's seed derives. */
  dropout?: { readonly rate: number; readonly index: number };
}

/** The model as dense layers, each perhaps followed by dropout; undefined for anything else. */
function denseLayers(model: LayersModel): DenseLayer[] | undefined {
  const layers: DenseLayer[] = [];
  for (const [index, layer] of model.layers.entries()) {
    const config = layer.getConfig() as { activation?: string; rate?: number; noiseShape?: unknown };
    const previous = layers.at(-1);
    if (layer.getClassName() === 'Dropout' && previous && !previous.dropout && config.noiseShape == null) {
      if (config.rate! > 0) previous.dropout = { rate: config.rate!, index };
      continue;
    }
    if (layer.getClassName() !== 'Dense' || layer.trainableWeights.length !== 2) return undefined;
    const activation = config.activation !== 'linear' && Object.hasOwn(ACTIVATIONS, config.activation ?? '') ? ACTIVATIONS[config.activation!] : undefined;
    if (config.activation !== 'linear' && !activation) return undefined;
    const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    if (kernel!.rank !== 2 || bias!.rank !== 1) return undefined;
    layers.push({ kernel: kernel!, bias: bias!, activation });
  }
  // The optimizer's slots follow the model's order of trainable weights.
  const order = layers.flatMap((l) => [l.kernel.name, l.bias.name]).join('\n');
  return layers.length && order === model.trainableWeights.map((w) => (w.read() as tf.Variable).name).join('\n') ? layers : undefined;
}

/**
 * A training step of the policy MLP on the tensorflow backend with its backward pass written
 * out, for models of dense layers and dropout with relu, elu, selu or tanh. tfjs's gradient tape
 * records every op of the forward pass and replays each one's gradient function, in JavaScript,
 * between TensorFlow calls; here the step is the ops alone: one matmul, add and activation per
 * layer forward, two matmuls, a sum and the activation's gradient op back, then the optimizer.
 *
 * The ops are those tfjs's tape runs, up to reshapes (the tape multiplies a linear layer's
 * operands as [1, rows, columns] and sums its bias gradient over two axes), except the
 * activations' gradients, which are TensorFlow's ReluGrad, EluGrad, SeluGrad and TanhGrad. relu
 * and elu are what the tape runs on this backend too, so with them a step is tfjs's bit for
 * bit; selu and tanh agree to float rounding. Dropout multiplies by the same masks as the
 * taped step. Undefined on other backends and for other models, which train through the tape;
 * the step belongs to the backend it was made on, and StepRunner uses it only there.
 */
export function nativeTrainStep(model: LayersModel, optimizer: tf.Optimizer): TrainStep | undefined {
  const native = activeNativeBackend();
  const layers = native && denseLayers(model);
  if (!native || !layers) return undefined;
  return (x, y, masks, dropoutSeed) => {
    const saved: Array<{ input: tf.Tensor2D; output: tf.Tensor2D; keep: tf.Tensor2D | undefined }> = [];
    let h = x;
    for (const layer of layers) {
      const input = h;
      const z = tf.add(tf.matMul(input, layer.kernel), layer.bias) as tf.Tensor2D;
      const output = layer.activation ? layer.activation.forward(z) : z;
      const keep = layer.dropout && dropoutMultiplier(output.shape, layer.dropout.rate, deriveSeed(dropoutSeed, layer.dropout.index));
      h = keep ? tf.mul(output, keep) : output;
      saved.push({ input, output, keep: keep as tf.Tensor2D | undefined });
    }
    const logits = maskLogits(h, masks);
    const { losses, gradient } = nativeCrossEntropy(native, logits, y);
    let dy = meanCrossEntropyGradient(gradient, tf.scalar(1), x.shape[0]);
    const gradients: Array<{ name: string; tensor: tf.Tensor }> = [];
    for (let i = layers.length - 1; i >= 0; i--) {
      const { kernel, bias, activation } = layers[i]!;
      const { input, output, keep } = saved[i]!;
      if (keep) dy = tf.mul(dy, keep);
      if (activation) dy = activation.gradient(native, dy, output);
      gradients.push({ name: bias.name, tensor: tf.sum(dy, 0) }, { name: kernel.name, tensor: tf.matMul(input, dy, true, false) });
      if (i > 0) dy = tf.matMul(dy, kernel, false, true);
    }
    optimizer.applyGradients(gradients.reverse());
    return { loss: tf.mean(losses), correct: countCorrect(logits, y) };
  };
}
