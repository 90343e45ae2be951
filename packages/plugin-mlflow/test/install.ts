import type { Context } from 'mocha';
import { requirePinnedTool } from '../../../test/pinned-tool.js';

/** The pinned `mlflow` binary (scripts/install-mlflow.sh), installed on first need. */
export function requireMlflow(ctx: Context): Promise<string> {
  return requirePinnedTool(ctx, { tool: 'mlflow', label: 'MLflow' });
}
