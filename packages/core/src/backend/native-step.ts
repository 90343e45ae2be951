import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ILLEGAL_LOGIT } from '../model/policy.js';
import { dropoutMultiplier } from '../model/dropout.js';
import { deriveSeed } from '../util/rng.js';
import { FlatAdam } from '../model/flat-adam.js';
import { addAdam, SessionMoments } from './graph-adam.js';
import type { AdamGraph } from './graph-adam.js';
import { GraphBuilder } from './graph-def.js';
import type { Output } from './graph-def.js';
import { NativeSession } from './native-session.js';
import { activeNativeBackend } from './native-ops.js';

/** One optimizer step on a batch (features, labels, 0/1 masks); the loss and the count of correct predictions before it. */
export type TrainStep = (x: tf.Tensor2D, y: tf.Tensor1D, masks: tf.Tensor2D, dropoutSeed: number) => { loss: tf.Scalar; correct: tf.Scalar };

/** A step that holds native resources (a TensorFlow session) until disposed. */
export interface NativeTrainStep {
  readonly step: TrainStep;
  dispose(): void;
}

/** An activation as TensorFlow ops: forward, and its gradient from the activation's output `y`. */
interface ActivationOps {
  readonly forward: string;
  readonly gradient: string;
  /** TanhGrad takes (y, dy); the others (dy, y). */
  readonly yFirst?: boolean;
}

/** The policy's activations that TensorFlow can differentiate from their output in one op; gelu has none. */
const ACTIVATIONS: Readonly<Record<string, ActivationOps>> = Object.freeze({
  relu: { forward: 'Relu', gradient: 'ReluGrad' },
  elu: { forward: 'Elu', gradient: 'EluGrad' },
  selu: { forward: 'Selu', gradient: 'SeluGrad' },
  tanh: { forward: 'Tanh', gradient: 'TanhGrad', yFirst: true },
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

/** The graph's tensors the step feeds and fetches. */
interface StepGraph {
  readonly graph: GraphBuilder;
  readonly x: Output;
  readonly y: Output;
  readonly masks: Output;
  readonly rows: Output;
  /** Per layer: its kernel's and bias's placeholders, and its dropout multiplier's if it has dropout. */
  readonly layers: ReadonlyArray<{ kernel: Output; bias: Output; keep: Output | undefined }>;
  readonly loss: Output;
  readonly correct: Output;
  readonly adam: AdamGraph;
}

/**
 * Forward and backward through the dense layers as one graph, with the ops the tape runs on
 * this backend: per layer a matmul, an add and the activation forward; the masked logits and
 * the fused cross-entropy; back, two matmuls (one for the first layer), a sum and the
 * activation's gradient op; and the count of correct predictions.
 */
function buildStepGraph(layers: readonly DenseLayer[], featureSize: number, actionCount: number, optimizer: FlatAdam): StepGraph {
  const g = new GraphBuilder();
  const [float, int] = [g.type('float32'), g.type('int32')];
  const matMul = (name: string, a: Output, b: Output, adjA = false, adjB = false) => g.op(name, 'BatchMatMulV2', [a, b], { T: float, adj_x: g.bool(adjA), adj_y: g.bool(adjB) });
  const binary = (name: string, op: string, a: Output, b: Output) => g.op(name, op, [a, b], { T: float });
  const sum0 = (name: string, a: Output, axis: Output) => g.op(name, 'Sum', [a, axis], { T: float, Tidx: int, keep_dims: g.bool(false) });
  const x = g.placeholder('x', 'float32', [-1, featureSize]);
  const y = g.placeholder('y', 'int32', [-1]);
  const masks = g.placeholder('masks', 'float32', [-1, actionCount]);
  const rows = g.placeholder('rows', 'float32', []);
  const axis0 = g.constant('axis0', 'int32', [0], [1]);
  const placeholders = layers.map((layer, i) => ({
    kernel: g.placeholder(`kernel${i}`, 'float32', layer.kernel.shape),
    bias: g.placeholder(`bias${i}`, 'float32', layer.bias.shape),
    keep: layer.dropout ? g.placeholder(`keep${i}`, 'float32', [-1, layer.kernel.shape[1]!]) : undefined,
  }));
  const saved: Array<{ input: Output; output: Output }> = [];
  let h = x;
  layers.forEach((layer, i) => {
    const { kernel, bias, keep } = placeholders[i]!;
    const z = binary(`add${i}`, 'Add', matMul(`matmul${i}`, h, kernel), bias);
    const output = layer.activation ? g.op(`activation${i}`, layer.activation.forward, [z], { T: float }) : z;
    saved.push({ input: h, output });
    h = keep ? binary(`dropout${i}`, 'Mul', output, keep) : output;
  });
  // maskLogits: logits + (masks − 1) · −ILLEGAL_LOGIT
  const penalty = binary('penalty', 'Mul', binary('masks_minus_one', 'Sub', masks, g.constant('one', 'float32', [1])), g.constant('illegal', 'float32', [-ILLEGAL_LOGIT]));
  const logits = binary('logits', 'Add', h, penalty);
  const crossEntropy = g.op('cross_entropy', 'SparseSoftmaxCrossEntropyWithLogits', [logits, y], { T: float, Tlabels: int });
  const loss = g.op('loss', 'Mean', [`${crossEntropy}:0`, axis0], { T: float, Tidx: int, keep_dims: g.bool(false) });
  const predicted = g.op('predicted', 'ArgMax', [logits, g.constant('axis1', 'int32', [1])], { T: float, Tidx: int, output_type: int });
  const hits = g.op('hits', 'Equal', [predicted, y], { T: int, incompatible_shape_error: g.bool(true) });
  const correct = sum0('correct', g.op('hits_float', 'Cast', [hits], { SrcT: g.type('bool'), DstT: float, Truncate: g.bool(false) }), axis0);
  // The mean's gradient: each row's (softmax − one-hot) times 1/rows.
  let dy = binary('dlogits', 'Mul', `${crossEntropy}:1`, binary('inverse_rows', 'RealDiv', g.constant('unit', 'float32', [1]), rows));
  const gradients: Output[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const { activation } = layers[i]!;
    const { keep, kernel } = placeholders[i]!;
    const { input, output } = saved[i]!;
    if (keep) dy = binary(`dropout_grad${i}`, 'Mul', dy, keep);
    if (activation) dy = g.op(`activation_grad${i}`, activation.gradient, activation.yFirst ? [output, dy] : [dy, output], { T: float });
    gradients.unshift(matMul(`kernel_grad${i}`, input, dy, true, false), sum0(`bias_grad${i}`, dy, axis0));
    if (i > 0) dy = matMul(`input_grad${i}`, dy, kernel, false, true);
  }
  const parameters = layers.flatMap((layer, i) => [
    { shape: layer.kernel.shape, value: placeholders[i]!.kernel, gradient: gradients[2 * i]! },
    { shape: layer.bias.shape, value: placeholders[i]!.bias, gradient: gradients[2 * i + 1]! },
  ]);
  const adam = addAdam(g, parameters, optimizer.constants());
  return { graph: g, x, y, masks, rows, layers: placeholders, loss, correct, adam };
}

/**
 * A training step of the policy MLP on the tensorflow backend as one TensorFlow graph, for
 * models of dense layers and dropout with relu, elu, selu or tanh, trained by poke's Adam.
 * Op by op, each TensorFlow call returns to JavaScript before the next, and TensorFlow's pool
 * threads go idle in between and come back slower; a session runs the forward and backward
 * pass and Adam's update at once, with Adam's moments lent to it (FlatAdam.lendMoments).
 *
 * The ops are those tfjs's tape runs, up to reshapes (the tape multiplies a linear layer's
 * operands as [1, rows, columns] and sums its bias gradient over two axes), except the
 * activations' gradients, which are TensorFlow's ReluGrad, EluGrad, SeluGrad and TanhGrad. relu
 * and elu are what the tape runs on this backend too, so with them a step is tfjs's bit for
 * bit; selu and tanh agree to float rounding. Adam is the fused op FlatAdam runs on this
 * backend. Dropout multiplies by the same masks as the taped step, made outside the graph and
 * fed to it. Undefined on other backends and for other models and optimizers, which train
 * through the tape; the step belongs to the backend it was made on, and StepRunner uses it
 * only there.
 */
export function nativeTrainStep(model: LayersModel, optimizer: tf.Optimizer): NativeTrainStep | undefined {
  const native = activeNativeBackend();
  if (!native || !(optimizer instanceof FlatAdam)) return undefined;
  const layers = denseLayers(model);
  if (!layers) return undefined;
  const [first, last] = [layers[0]!, layers.at(-1)!];
  const graph = buildStepGraph(layers, first.kernel.shape[0]!, last.kernel.shape[1]!, optimizer);
  const session = new NativeSession(native, graph.graph);
  const moments = new SessionMoments(session, graph.adam);
  const variables = layers.flatMap((layer) => [layer.kernel, layer.bias]);
  /** One run of the graph: the loss, the correct count and the variables' values after the update. */
  const run = (x: tf.Tensor2D, y: tf.Tensor1D, masks: tf.Tensor2D, dropoutSeed: number, [beta1Power, beta2Power]: readonly tf.Tensor[]) => {
    const rows = x.shape[0];
    const feeds: Array<readonly [Output, tf.Tensor]> = [
      [graph.x, x],
      [graph.y, y],
      [graph.masks, masks],
      [graph.rows, tf.scalar(rows)],
      [graph.adam.beta1Power, beta1Power!],
      [graph.adam.beta2Power, beta2Power!],
    ];
    layers.forEach((layer, i) => {
      const { kernel, bias, keep } = graph.layers[i]!;
      feeds.push([kernel, layer.kernel], [bias, layer.bias]);
      if (keep) feeds.push([keep, dropoutMultiplier([rows, layer.kernel.shape[1]!], layer.dropout!.rate, deriveSeed(dropoutSeed, layer.dropout!.index))]);
    });
    const [loss, correct, ...updated] = session.run(feeds, [graph.loss, graph.correct, ...graph.adam.updated]);
    return { loss: loss as tf.Scalar, correct: correct as tf.Scalar, updated };
  };
  // TensorFlow finds a missing kernel or a device it cannot place an op on only when the graph
  // first runs: one run on a row of zeros, with zero moments, so that such a failure comes here,
  // where the caller can train through the tape instead. It leaves nothing behind: each step
  // copies the weights in again, and lending the moments sets them.
  try {
    tf.tidy(() => {
      moments.setMoments(variables.map((v) => v.shape));
      run(tf.zeros([1, first.kernel.shape[0]!]), tf.zeros([1], 'int32'), tf.ones([1, last.kernel.shape[1]!]), 0, optimizer.betaPowerTensors());
    });
  } catch (err) {
    session.dispose();
    throw err;
  }
  const step: TrainStep = (x, y, masks, dropoutSeed) => {
    optimizer.lendMoments(variables, moments);
    moments.released();
    const { loss, correct, updated } = run(x, y, masks, dropoutSeed, optimizer.betaPowerTensors());
    variables.forEach((variable, i) => variable.assign(updated[i]!));
    optimizer.stepApplied();
    return { loss, correct };
  };
  const dispose = () => {
    try {
      optimizer.reclaimMoments();
    } finally {
      moments.released();
      session.dispose();
    }
  };
  return { step, dispose };
}
