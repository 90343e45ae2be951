import { ACTION_COUNT } from './actions.js';
import { FEATURE_SIZE } from './encoder/layout.js';

/** One encoded position: what the policy sees and which actions are legal. */
export interface EncodedRow {
  features: Float32Array;
  mask: Uint8Array;
}

/**
 * Rows back to back in one features buffer (FEATURE_SIZE values a row) and one
 * masks buffer (ACTION_COUNT flags a row): the layout of a shard and of a
 * batch, and one transfer each to a thread.
 */
export function packRows(rows: readonly EncodedRow[]): { features: Float32Array; masks: Uint8Array } {
  const features = new Float32Array(rows.length * FEATURE_SIZE);
  const masks = new Uint8Array(rows.length * ACTION_COUNT);
  rows.forEach((row, i) => {
    features.set(row.features, i * FEATURE_SIZE);
    masks.set(row.mask, i * ACTION_COUNT);
  });
  return { features, masks };
}
