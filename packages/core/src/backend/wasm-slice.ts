import * as tf from '@tensorflow/tfjs-core';
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmHeap } from './wasm-heap.js';

let patched = false;

/**
 * The wasm backend's Slice kernel reads its whole input back first, and a
 * read-back on wasm copies the tensor out of the heap into new memory: every
 * slice of a large tensor costs a copy of all of it. FlatAdam splits its flat
 * update into one slice per variable on every step, so each step copied the
 * update once per variable. A slice whose elements are contiguous in the
 * input, as every split of a flat tensor is, is a single move within the
 * heap; other slices, and strings, go to the original kernel.
 */
export function patchWasmSlice(): void {
  if (patched) return;
  patched = true;
  const slice = tf.getKernel('Slice', 'wasm');
  const splitV = tf.getKernel('SplitV', 'wasm');
  if (!slice || !splitV) return;
  const sliceFunc = contiguousInHeap(slice.kernelFunc);
  replace(slice, sliceFunc);
  // SplitV calls the original Slice function directly, not through the registry.
  replace(splitV, splitBy(sliceFunc));
}

function replace(config: KernelConfig, kernelFunc: KernelFunc): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({ ...config, kernelFunc } as KernelConfig);
}

/** SplitV as the wasm backend has it, each piece cut by `slice`. */
function splitBy(slice: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const at = util.parseAxisParam(axis, x.shape)[0]!;
    const begin = new Array<number>(x.shape.length).fill(0);
    return backend_util.prepareSplitSize(x, numOrSizeSplits, at).map((length) => {
      const size = [...x.shape];
      size[at] = length;
      const piece = slice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend }) as TensorInfo;
      begin[at]! += length;
      return piece;
    });
  };
}

function contiguousInHeap(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
    if (x.dtype === 'string') return original(args);
    const [begin_, size_] = slice_util.parseSliceParams(x, begin, size);
    if (!slice_util.isSliceContinous(x.shape, begin_!, size_!)) return original(args);
    const backend = args.backend as BackendWasm;
    // makeOutput may grow the heap: the heap is looked up after it.
    const out = backend.makeOutput(size_!, x.dtype);
    const width = util.bytesPerElement(x.dtype);
    const bytes = util.sizeFromShape(size_!) * width;
    if (bytes === 0) return out;
    const from = backend.dataIdMap.get(x.dataId).memoryOffset + slice_util.computeFlatOffset(begin_!, util.computeStrides(x.shape)) * width;
    const to = backend.dataIdMap.get(out.dataId).memoryOffset;
    wasmHeap(backend).copyWithin(to, from, from + bytes);
    return out;
  };
}
