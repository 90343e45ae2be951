import type { io } from '@tensorflow/tfjs-core';
import { readCheckpoint } from './format.js';
import { concatFloat32 } from './files.js';

/**
 * A tfjs IOHandler over a checkpoint folder: `tf.loadLayersModel(checkpointIOHandler(dir))`.
 * The folder is verified (checksums, sizes, schemas) before anything is handed to tfjs.
 */
export function checkpointIOHandler(dir: string): io.IOHandler {
  return {
    async load(): Promise<io.ModelArtifacts> {
      const loaded = await readCheckpoint(dir);
      const data = concatFloat32(loaded.weights.map((w) => w.values));
      return {
        modelTopology: loaded.topology,
        format: 'layers-model',
        weightSpecs: loaded.weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' as const })),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
      };
    },
  };
}
