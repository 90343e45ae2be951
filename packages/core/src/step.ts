import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forward, maskLogits, lossAndCorrect } from './model/policy.js';
import type { Batch, Dataset } from './data/dataset.js';
import { nativeTrainStep } from './backend/native-step.js';
import { activeNativeBackend } from './backend/native-ops.js';
import type { NativeTrainStep, TrainStep } from './backend/native-step.js';
import type { Logger } from './logger.js';

function toTensors(batch: Batch, featureSize: number, actionCount: number) {
  const masks = new Float32Array(batch.masks.length);
  for (let i = 0; i < masks.length; i++) masks[i] = batch.masks[i]!;
  return {
    x: tf.tensor2d(batch.features, [batch.size, featureSize]),
    y: tf.tensor1d(batch.labels, 'int32'),
    m: tf.tensor2d(masks, [batch.size, actionCount]),
  };
}

/** One optimizer step and the validation pass, with every intermediate tensor disposed. */
export class StepRunner {
  private readonly variables: tf.Variable[];
  /** The step as one TensorFlow graph, where the backend and the model allow one. */
  private readonly nativeStep: NativeTrainStep | undefined;

  constructor(
    private readonly model: LayersModel,
    private readonly optimizer: tf.Optimizer,
    private readonly featureSize: number,
    private readonly actionCount: number,
    logger: Logger,
  ) {
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    try {
      this.nativeStep = nativeTrainStep(model, optimizer);
    } catch (err) {
      // Slower, not wrong: the tape trains every model on every backend.
      logger.warn(`the tensorflow training step could not run as one graph (${(err as Error).message}); it runs op by op through tfjs's gradient tape instead`);
    }
  }

  train(batch: Batch, dropoutSeed: number): { loss: number; correct: number } {
    const values = tf.tidy(() => {
      const { x, y, m } = toTensors(batch, this.featureSize, this.actionCount);
      const step = this.nativeStep && activeNativeBackend() ? this.nativeStep.step : this.taped;
      const { loss, correct } = step(x, y, m, dropoutSeed);
      // One read of both numbers: a single sync per step.
      const both = tf.stack([loss, correct]).dataSync();
      correct.dispose(); // the taped step keeps it out of minimize's scope, so tidy will not
      return both;
    });
    return { loss: values[0]!, correct: values[1]! };
  }

  /** Release the native step's session; the runner is not used after this. */
  dispose(): void {
    this.nativeStep?.dispose();
  }

  /** The step through tfjs's gradient tape: any model, any backend. */
  private readonly taped: TrainStep = (x, y, m, dropoutSeed) => {
    let correct: tf.Scalar | undefined;
    const loss = this.optimizer.minimize(
      () => {
        const out = lossAndCorrect(maskLogits(forward(this.model, x, dropoutSeed), m), y, this.actionCount);
        correct = tf.keep(out.correct);
        return out.loss;
      },
      true,
      this.variables,
    )!;
    return { loss, correct: correct! };
  };

  async evaluate(dataset: Dataset, indices: Int32Array, batchSize: number): Promise<{ val_loss: number; val_accuracy: number }> {
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < indices.length; start += batchSize) {
      const end = Math.min(start + batchSize, indices.length);
      if (dataset.prepare) await dataset.prepare(indices, start, end);
      const batch = dataset.gather(indices.subarray(start, end));
      const values = tf.tidy(() => {
        const { x, y, m } = toTensors(batch, this.featureSize, this.actionCount);
        const out = lossAndCorrect(maskLogits(forward(this.model, x), m), y, this.actionCount);
        return tf.stack([out.loss, out.correct]).dataSync();
      });
      lossSum += values[0]! * batch.size;
      correct += values[1]!;
    }
    return { val_loss: lossSum / indices.length, val_accuracy: correct / indices.length };
  }
}
