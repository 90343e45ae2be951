import * as tf from '@tensorflow/tfjs-core';
import type { GraphBuilder, Output } from './graph-def.js';
import { momentValue } from './native-adam.js';
import type { NativeMoments } from './native-adam.js';
import type { NativeSession } from './native-session.js';

/** Adam's constants, as FlatAdam holds them. */
export interface AdamConstants {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** One variable the graph updates: its shape, the placeholder its value is fed to, and its gradient in the graph. */
export interface AdamParameter {
  readonly shape: readonly number[];
  readonly value: Output;
  readonly gradient: Output;
}

/** The graph's tensors for Adam: what a step feeds and fetches, and what sets and reads the moments. */
export interface AdamGraph {
  readonly beta1Power: Output;
  readonly beta2Power: Output;
  /** Each variable's value after the update. */
  readonly updated: readonly Output[];
  /** The moments, first then second, one per variable. */
  readonly moments: readonly Output[];
  /** Placeholders for new moments (first then second), and the output that fetches their assignment. */
  readonly momentValues: readonly Output[];
  readonly momentsSet: Output;
}

let serial = 0;

/**
 * Adam in the step graph, as TensorFlow's fused ResourceApplyAdam per variable: the same op
 * and inputs as NativeAdamState's eager update, so the same values bit for bit. The moments
 * are resource variables of the session, so they stay where the op updates them in place;
 * each variable's value is fed, copied into a resource variable for the op, and fetched
 * after the update for tfjs's variable. ε̂ = ε·√(1−β₂ᵗ) is computed in the graph with
 * the ops the eager update uses.
 */
export function addAdam(g: GraphBuilder, parameters: readonly AdamParameter[], constants: AdamConstants): AdamGraph {
  const float = g.type('float32');
  const id = serial++;
  const variable = (name: string, shape: readonly number[]) =>
    g.op(name, 'VarHandleOp', [], { dtype: float, shape: g.shape(shape), shared_name: g.string(`poke-${process.pid}-${id}-${name}`), container: g.string('') });
  const assign = (name: string, handle: Output, value: Output) => g.op(name, 'AssignVariableOp', [handle, value], { dtype: float });
  const beta1Power = g.placeholder('beta1_power', 'float32', []);
  const beta2Power = g.placeholder('beta2_power', 'float32', []);
  const [learningRate, beta1, beta2, epsilon] = (['learningRate', 'beta1', 'beta2', 'epsilon'] as const).map((k) => g.constant(`adam_${k}`, 'float32', [constants[k]]));
  const oneMinusBeta2Power = g.op('adam_one_minus_beta2_power', 'Sub', [g.constant('adam_one', 'float32', [1]), beta2Power], { T: float });
  const epsilonHat = g.op('adam_epsilon_hat', 'Mul', [g.op('adam_sqrt', 'Sqrt', [oneMinusBeta2Power], { T: float }), epsilon!], { T: float });
  const firsts = parameters.map((p, i) => variable(`adam_m${i}`, p.shape));
  const seconds = parameters.map((p, i) => variable(`adam_v${i}`, p.shape));
  const momentHandles = [...firsts, ...seconds];
  const updated = parameters.map((p, i) => {
    const weight = variable(`adam_weight${i}`, p.shape);
    const copied = assign(`adam_weight_in${i}`, weight, p.value);
    const inputs = [weight, firsts[i]!, seconds[i]!, beta1Power, beta2Power, learningRate!, beta1!, beta2!, epsilonHat, p.gradient, `^${copied}`];
    const applied = g.op(`adam_apply${i}`, 'ResourceApplyAdam', inputs, { T: float, use_locking: g.bool(false), use_nesterov: g.bool(false) });
    return g.op(`adam_weight_out${i}`, 'ReadVariableOp', [weight, `^${applied}`], { dtype: float });
  });
  const moments = momentHandles.map((handle, i) => g.op(`adam_moment_out${i}`, 'ReadVariableOp', [handle], { dtype: float }));
  const momentValues = momentHandles.map((_, i) => g.placeholder(`adam_moment_in${i}`, 'float32', parameters[i % parameters.length]!.shape));
  const assigned = momentHandles.map((handle, i) => `^${assign(`adam_moment_assign${i}`, handle, momentValues[i]!)}`);
  const momentsSet = g.op('adam_moments_set', 'Identity', [g.constant('adam_done', 'float32', [0]), ...assigned], { T: float });
  return { beta1Power, beta2Power, updated, moments, momentValues, momentsSet };
}

/** The moments of Adam in a step graph's session: set and read through the session. */
export class SessionMoments implements NativeMoments {
  private reads: tf.Tensor[] | undefined;

  constructor(
    private readonly session: NativeSession,
    private readonly graph: AdamGraph,
  ) {}

  setMoments(shapes: ReadonlyArray<readonly number[]>, values?: ReadonlyArray<Float32Array | tf.Tensor>): void {
    this.released();
    tf.tidy(() => {
      const tensors = [...shapes, ...shapes].map((shape, i) => momentValue(values?.[i], shape));
      this.session.run(
        this.graph.momentValues.map((name, i) => [name, tensors[i]!] as const),
        [this.graph.momentsSet],
      );
    });
  }

  momentTensors(): tf.Tensor[] {
    this.reads ??= this.session.run([], this.graph.moments).map((t) => tf.keep(t));
    return this.reads;
  }

  /** Let go of the last reads, so a step updates the moments in place rather than copying them. */
  released(): void {
    if (this.reads) tf.dispose(this.reads);
    this.reads = undefined;
  }
}
