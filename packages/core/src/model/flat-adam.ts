import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import { NativeAdamState, nativeAdamAvailable } from '../backend/native-adam.js';
import type { NativeMoments } from '../backend/native-adam.js';

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const BETA1 = 0.9;
const BETA2 = 0.999;

/** Where one variable's moments sit in the flat slot buffers. */
interface SlotLayout {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
}

/** A slot of Adam's state as one tensor: a variable's first (`/m`) or second (`/v`) moment. */
export interface NamedSlot {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Adam with its moments held in two flat buffers, one update for all variables.
 *
 * tfjs's AdamOptimizer runs fourteen elementwise kernels per variable per step;
 * on a native backend each kernel costs a dispatch, which for a small MLP is
 * most of a step. Here the gradients are concatenated once and the same
 * elementwise ops run once, in the same order and with the same constants, so
 * every value is bit for bit what AdamOptimizer computes (elementwise float
 * ops do not depend on how the elements are grouped). Checkpoints hold the same
 * slots, named and ordered as AdamOptimizer names them.
 *
 * On the tensorflow backend the update is TensorFlow's own fused Adam instead
 * (NativeAdamState), with the moments in its resource variables: the same
 * update up to float rounding, in a fraction of the time. The training step's
 * graph runs that same op itself, with the moments lent to its session.
 */
export class FlatAdam extends tf.Optimizer {
  static get className(): string {
    return 'Adam';
  }

  private readonly epsilon: number;
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private layout: SlotLayout[] = [];
  private firstMoment: tf.Variable | undefined;
  private secondMoment: tf.Variable | undefined;
  /** The moments and the update on the tensorflow backend; the flat buffers stay unused. */
  private readonly native: NativeAdamState | undefined;
  /** On tensorflow, where the moments are while a step graph applies Adam itself (lendMoments). */
  private lent: NativeMoments | undefined;

  constructor(private readonly learningRate: number) {
    super();
    this.epsilon = tf.backend().epsilon();
    [this.accBeta1, this.accBeta2] = tf.tidy(() => [tf.scalar(BETA1).variable(), tf.scalar(BETA2).variable()]);
    this.native = nativeAdamAvailable() ? new NativeAdamState(learningRate, BETA1, BETA2) : undefined;
  }

  applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const values = named.map(({ name, tensor }) => {
      if (!tensor) throw new Error(`optimizer: no gradient for ${name}; every trainable variable must reach the loss`);
      return tf.engine().registeredVariables[name]!;
    });
    this.reclaimMoments();
    this.ensureSlots(values);
    if (this.native) this.native.apply(values, named.map((g) => g.tensor), this.accBeta1, this.accBeta2, this.epsilon);
    else this.flatUpdate(values, named);
    this.stepApplied();
  }

  /** Count a step: the β powers and the iteration count advance. */
  stepApplied(): void {
    tf.tidy(() => {
      this.accBeta1.assign(tf.mul(this.accBeta1, BETA1));
      this.accBeta2.assign(tf.mul(this.accBeta2, BETA2));
    });
    this.incrementIterations();
  }

  /** The constants of the update, for a step graph that applies it (tensorflow). */
  constants(): { learningRate: number; beta1: number; beta2: number; epsilon: number } {
    return { learningRate: this.learningRate, beta1: BETA1, beta2: BETA2, epsilon: this.epsilon };
  }

  /** β₁ᵗ and β₂ᵗ as tensors, to feed a step graph; the step then calls stepApplied(). */
  betaPowerTensors(): [tf.Tensor, tf.Tensor] {
    return [this.accBeta1, this.accBeta2];
  }

  /**
   * On tensorflow, move the moments of `variables` (zero before the first step) to `home`, a
   * step graph's session that applies Adam itself from now on. They come back before any
   * update made here, a restore, or when the graph is done (reclaimMoments).
   */
  lendMoments(variables: readonly tf.Variable[], home: NativeMoments): void {
    if (!this.native) throw new Error('optimizer: moments are lent only on the tensorflow backend');
    if (this.lent === home) return;
    this.reclaimMoments();
    this.ensureSlots(variables);
    const shapes = this.layout.map((l) => l.shape);
    home.setMoments(shapes, this.native.momentTensors());
    this.native.setMoments([]);
    this.lent = home;
  }

  /** Take the moments back from where they were lent; nothing when they were not. */
  reclaimMoments(): void {
    if (!this.lent) return;
    this.native!.setMoments(this.layout.map((l) => l.shape), this.lent.momentTensors());
    this.lent = undefined;
  }

  private flatUpdate(values: readonly tf.Variable[], named: readonly NamedTensor[]): void {
    tf.tidy(() => {
      const gradient = named.length === 1 ? tf.reshape(named[0]!.tensor, [-1]) : tf.concat(named.map((g) => tf.reshape(g.tensor, [-1])));
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      const newFirstMoment = tf.add(tf.mul(this.firstMoment!, BETA1), tf.mul(gradient, 1 - BETA1));
      const newSecondMoment = tf.add(tf.mul(this.secondMoment!, BETA2), tf.mul(tf.square(gradient), 1 - BETA2));
      const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
      const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
      this.firstMoment!.assign(newFirstMoment);
      this.secondMoment!.assign(newSecondMoment);
      const update = tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), this.epsilon)), -this.learningRate);
      const parts = values.length === 1 ? [update] : tf.split(update, this.layout.map((l) => l.size));
      values.forEach((value, i) => value.assign(tf.add(tf.reshape(parts[i]!, value.shape), value)));
    });
  }

  /** Zero moments on the first step; afterwards the variables must be the ones the slots were made for. */
  private ensureSlots(values: readonly tf.Variable[]): void {
    if (!this.layout.length) {
      this.layout = values.map((v) => ({ name: v.name, shape: [...v.shape], size: v.size }));
      if (this.native) {
        this.native.setMoments(this.layout.map((l) => l.shape));
        return;
      }
      const total = this.layout.reduce((a, l) => a + l.size, 0);
      this.firstMoment = tf.tidy(() => tf.zeros([total]).variable(false));
      this.secondMoment = tf.tidy(() => tf.zeros([total]).variable(false));
      return;
    }
    const fits = values.length === this.layout.length && values.every((v, i) => v.size === this.layout[i]!.size);
    if (!fits) {
      throw new Error(`optimizer: its state is for ${this.layout.length} variables (${this.layout.map((l) => `[${l.shape}]`).join(', ')}), the step has ${values.length} (${values.map((v) => `[${v.shape}]`).join(', ')})`);
    }
  }

  /** The slots' names and shapes, first moments then second, as AdamOptimizer orders them; empty before the first step. */
  slotNames(): NamedSlot[] {
    return [...this.layout.map((l) => ({ name: `${l.name}/m`, shape: l.shape })), ...this.layout.map((l) => ({ name: `${l.name}/v`, shape: l.shape }))];
  }

  /**
   * The moments: their concatenated data is the slots of slotNames() in order. Two flat
   * buffers, or on tensorflow one tensor per slot; owned here, valid until the next step.
   */
  slotBuffers(): tf.Tensor[] {
    if (this.lent) return this.lent.momentTensors();
    if (this.native) return this.layout.length ? this.native.momentTensors() : [];
    return this.firstMoment ? [this.firstMoment, this.secondMoment!] : [];
  }

  /** β₁ᵗ and β₂ᵗ as the steps accumulated them (recomputing them with pow() differs in the last bits). */
  betaPowers(): { accBeta1: number; accBeta2: number } {
    return { accBeta1: this.accBeta1.dataSync()[0]!, accBeta2: this.accBeta2.dataSync()[0]! };
  }

  /** Continue from saved state: the step count, β powers and slots (first moments then second, as slotNames() gives them). */
  restore(state: { iterations: number; accBeta1: number; accBeta2: number; slots: ReadonlyArray<NamedSlot & { values: Float32Array }> }): void {
    const count = state.slots.length / 2;
    if (!Number.isInteger(count)) throw new Error(`optimizer: ${state.slots.length} slots; Adam's come in pairs`);
    this.reclaimMoments();
    this.disposeSlots();
    this.iterations_ = state.iterations;
    tf.tidy(() => {
      this.accBeta1.assign(tf.scalar(state.accBeta1));
      this.accBeta2.assign(tf.scalar(state.accBeta2));
    });
    if (count === 0) return;
    this.layout = state.slots.slice(0, count).map((s) => ({ name: s.name.replace(/\/m$/, ''), shape: [...s.shape], size: tf.util.sizeFromShape([...s.shape]) }));
    if (this.native) {
      this.native.setMoments(this.layout.map((l) => l.shape), state.slots.map((s) => s.values));
      return;
    }
    const flat = (slots: typeof state.slots) => {
      const out = new Float32Array(slots.reduce((a, s) => a + s.values.length, 0));
      let at = 0;
      for (const s of slots) {
        out.set(s.values, at);
        at += s.values.length;
      }
      return tf.tensor1d(out).variable(false);
    };
    this.firstMoment = flat(state.slots.slice(0, count));
    this.secondMoment = flat(state.slots.slice(count));
  }

  private disposeSlots(): void {
    this.native?.setMoments([]);
    this.firstMoment?.dispose();
    this.secondMoment?.dispose();
    this.firstMoment = this.secondMoment = undefined;
    this.layout = [];
  }

  override dispose(): void {
    this.lent = undefined;
    this.accBeta1.dispose();
    this.accBeta2.dispose();
    this.disposeSlots();
    this.native?.dispose();
  }

  /** tfjs's optimizer weights: the step count, then one tensor per slot (callers dispose them). */
  override async getWeights(): Promise<NamedTensor[]> {
    const slots = this.slotNames();
    const buffers = this.slotBuffers();
    const tensors = buffers.length
      ? tf.tidy(() => {
          const sizes = this.layout.map((l) => l.size);
          const perSlot = buffers.length === slots.length ? buffers : buffers.flatMap((b) => tf.split(b, sizes));
          return perSlot.map((t, i) => tf.reshape(t, slots[i]!.shape as number[]));
        })
      : [];
    return [await this.saveIterations(), ...tensors.map((tensor, i) => ({ name: slots[i]!.name, tensor }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(weightValues);
    // As AdamOptimizer.setWeights does: the powers recomputed, which may differ in the last bits from accumulated ones.
    const [accBeta1, accBeta2] = tf.tidy(() => [BETA1, BETA2].map((b) => tf.pow(b, this.iterations_ + 1).dataSync()[0]!));
    this.restore({
      iterations: this.iterations_,
      accBeta1,
      accBeta2,
      slots: slots.map((s) => ({ name: s.name, shape: s.tensor.shape, values: s.tensor.dataSync() as Float32Array })),
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: BETA1, beta2: BETA2, epsilon: this.epsilon };
  }
}
