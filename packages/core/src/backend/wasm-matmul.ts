import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, NamedTensorInfoMap } from '@tensorflow/tfjs-core';

let patched = false;

/**
 * The wasm backend's matmul kernel is ~40× slower when an operand is transposed,
 * which is exactly what the backward pass of a dense layer asks for. Wrap
 * BatchMatMul and _FusedMatMul so a transposed operand is first materialised by
 * the (fast) Transpose kernel and the plain, untransposed path does the multiply.
 * Must run before the wasm backend initialises, so the kernels' setup still runs.
 */
export function patchWasmMatMul(): void {
  if (patched) return;
  patched = true;
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: untransposed(original) } as KernelConfig);
  }
}

function untransposed(original: KernelConfig): KernelFunc {
  return (args) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean } | undefined;
    if (!attrs?.transposeA && !attrs?.transposeB) return original.kernelFunc(args);
    const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
    const backend = args.backend as { disposeData(dataId: object): void };
    const inputs: NamedTensorInfoMap = { ...args.inputs };
    const temporaries: TensorInfo[] = [];
    for (const [key, flag] of [['a', attrs.transposeA], ['b', attrs.transposeB]] as const) {
      if (!flag) continue;
      const x = inputs[key]!;
      const rank = x.shape.length;
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
      const t = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      inputs[key] = t;
      temporaries.push(t);
    }
    const out = original.kernelFunc({ ...args, inputs, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temporaries) backend.disposeData(t.dataId);
    return out;
  };
}
