import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The parts of tfjs-node's backend that poke's own native ops use: running a
 * TensorFlow op by name. Its outputs come back as tensors the engine tracks.
 */
export interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_ATTR_SHAPE: number; TF_ATTR_BOOL: number; TF_FLOAT: number; TF_INT32: number;
    isUsingGpuDevice(): boolean;
    /** poke's addition to the addon (scripts/tfjs-node-tensor-data-into.patch): absent from the addon as published. */
    tensorDataInto?(id: number, byteOffset: number, target: Uint8Array): void;
  };
  /** Per tensor: its values until they go to TensorFlow, then TensorFlow's id and dtype (a TF_* number) for it. */
  tensorMap: { has(dataId: object): boolean; get(dataId: object): { values: unknown; id: number; dtype: number } };
  executeSingleOutput(op: string, attrs: object[], inputs: TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(op: string, attrs: object[], inputs: TensorInfo[], outputs: number): tf.Tensor[];
  /** A TensorFlow session on a SavedModel's graph; its id. */
  loadSavedModelMetaGraph(path: string, tags: string): number;
  /** One run of a session: `inputs` fed to the outputs `infos` name, the named `outputs` fetched. */
  runSavedModel(id: number, inputs: tf.Tensor[], infos: ReadonlyArray<{ name: string }>, outputs: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

/** The tensorflow backend, when it is the active one. */
export function activeNativeBackend(): NativeBackend | undefined {
  return tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as NativeBackend) : undefined;
}

/** An op's type attribute (`T`, `dtype`, …). */
export function typeAttr(native: NativeBackend, name: string, dtype: 'float32' | 'int32' = 'float32'): object {
  return { name, type: native.binding.TF_ATTR_TYPE, value: dtype === 'float32' ? native.binding.TF_FLOAT : native.binding.TF_INT32 };
}

export function boolAttr(native: NativeBackend, name: string, value: boolean): object {
  return { name, type: native.binding.TF_ATTR_BOOL, value };
}
