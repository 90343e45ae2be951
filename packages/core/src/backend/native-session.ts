import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphBuilder, Output } from './graph-def.js';
import type { NativeBackend } from './native-ops.js';

const TAG = 'poke';

/** A node's output as a session names it: `name:index`, the first output when no index is given. */
const tensorName = (output: Output): string => (output.includes(':') ? output : `${output}:0`);

/**
 * A TensorFlow session on a graph, run through tfjs-node's SavedModel support: the one
 * way its binding runs a graph rather than op by op. The graph goes to a temporary
 * SavedModel folder, which is removed once the session has read it.
 */
export class NativeSession {
  private id: number | undefined;

  constructor(
    private readonly native: NativeBackend,
    graph: GraphBuilder,
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'poke-graph-'));
    try {
      writeFileSync(join(dir, 'saved_model.pb'), graph.savedModel(TAG));
      this.id = native.loadSavedModelMetaGraph(dir, TAG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The `fetches` after feeding each placeholder named in `feeds` its tensor; the outputs are new tensors. */
  run(feeds: ReadonlyArray<readonly [Output, tf.Tensor]>, fetches: readonly Output[]): tf.Tensor[] {
    if (this.id === undefined) throw new Error('native session: run after dispose');
    const infos = feeds.map(([name]) => ({ name: tensorName(name) }));
    return this.native.runSavedModel(this.id, feeds.map(([, tensor]) => tensor), infos, fetches.map(tensorName));
  }

  dispose(): void {
    if (this.id !== undefined) this.native.deleteSavedModel(this.id);
    this.id = undefined;
  }
}
