/** Options of `checkpoint()`; every key is optional. */
export interface CheckpointOptions {
  /** When to save besides validation: every epoch, every N steps, or every M minutes. @default "epoch" */
  every?: 'epoch' | { steps: number } | { minutes: number };
  /** Save after each validation pass, where the best checkpoint is decided. @default true */
  onValidate?: boolean;
  /** Save a last checkpoint when the run ends, is interrupted or fails. @default true */
  saveLast?: boolean;
  /** Metric that decides the best checkpoint. @default "val_loss" (or "train_loss" without validation) */
  monitor?: string;
  /** Whether a lower or higher monitored value is better. @default "min" for losses, "max" otherwise */
  mode?: 'min' | 'max';
  /** Write in the background: tensors are snapshotted on the training thread, at most one save in flight. @default false */
  async?: boolean;
  /** Warn when one checkpoint is larger than this. @default 1073741824 (1 GiB) */
  maxBytes?: number;
  /**
   * When a save fails for lack of space or a read-only disk: `stop` ends the run
   * (status failed, one clear line), `continue` warns and keeps training. @default "stop"
   */
  onSaveError?: 'stop' | 'continue';
}

export const checkpointOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    every: {
      description: 'when to save besides validation',
      default: 'epoch',
      oneOf: [
        { const: 'epoch' },
        { type: 'object', additionalProperties: false, required: ['steps'], properties: { steps: { type: 'integer', minimum: 1 } } },
        { type: 'object', additionalProperties: false, required: ['minutes'], properties: { minutes: { type: 'number', exclusiveMinimum: 0 } } },
      ],
    },
    onValidate: { type: 'boolean', default: true, description: 'save after each validation pass' },
    saveLast: { type: 'boolean', default: true, description: 'save when the run ends, is interrupted or fails' },
    monitor: { type: 'string', minLength: 1, description: 'metric that decides the best checkpoint' },
    mode: { enum: ['min', 'max'], description: 'min: lower is better; max: higher is better' },
    async: { type: 'boolean', default: false, description: 'write checkpoints in the background' },
    maxBytes: { type: 'integer', minimum: 1, default: 1073741824, description: 'warn above this size' },
    onSaveError: { enum: ['stop', 'continue'], default: 'stop', description: 'what a save that hits a full or read-only disk does' },
  },
} as const;
