/** Options of `retention()`; every key is optional. */
export interface RetentionOptions {
  /** Keep the most recent N checkpoints. @default 5 */
  maxToKeep?: number;
  /** Keep the best (true), the top k by the checkpoint plugin's monitor (a number), or not (false). @default true */
  keepBest?: boolean | number;
  /** Keep these forever: end-of-epoch checkpoints every N epochs, or checkpoints every N steps. */
  keepEvery?: { epochs: number } | { steps: number };
  /** Delete more (oldest unprotected first) while the checkpoints together are larger than this. */
  maxTotalBytes?: number;
  /** Checkpoint ids never to delete. @default [] */
  keep?: string[];
}

export const retentionOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxToKeep: { type: 'integer', minimum: 1, default: 5, description: 'keep the most recent N checkpoints' },
    keepBest: {
      default: true,
      description: 'keep the best (true), the top k (a number) or not (false)',
      oneOf: [{ type: 'boolean' }, { type: 'integer', minimum: 1 }],
    },
    keepEvery: {
      description: 'keep checkpoints every N epochs (end of epoch) or every N steps, forever',
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['epochs'], properties: { epochs: { type: 'integer', minimum: 1 } } },
        { type: 'object', additionalProperties: false, required: ['steps'], properties: { steps: { type: 'integer', minimum: 1 } } },
      ],
    },
    maxTotalBytes: { type: 'integer', minimum: 1, description: 'cap on the total size of the checkpoints' },
    keep: { type: 'array', items: { type: 'string' }, default: [], description: 'checkpoint ids never to delete' },
  },
} as const;
