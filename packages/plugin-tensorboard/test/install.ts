import { dirname, join } from 'node:path';
import type { Context } from 'mocha';
import { requirePinnedTool } from '../../../test/pinned-tool.js';

/** The pinned `tensorboard` binary (scripts/install-tensorboard.sh), installed on first need. */
export function requireTensorboard(ctx: Context): Promise<string> {
  return requirePinnedTool(ctx, { tool: 'tensorboard', label: 'TensorBoard' });
}

/** The venv's python, beside the `tensorboard` binary: it runs read_events.py with TensorBoard's reader. */
export function pythonOf(bin: string): string {
  return join(dirname(bin), 'python');
}
