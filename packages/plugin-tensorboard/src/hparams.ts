import type { HParamValue } from './summaries.js';

/**
 * The config as HParams: dotted keys (`train.epochs`), as the MLflow plugin's params.
 * Numbers, strings and booleans stay as they are; anything else (arrays, null) is JSON,
 * which the dashboard shows as a string.
 */
export function flattenHParams(value: unknown, prefix = '', out: Record<string, HParamValue> = {}): Record<string, HParamValue> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenHParams(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out[prefix] = value;
  } else if (value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}
