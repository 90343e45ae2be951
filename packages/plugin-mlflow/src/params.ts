import { LIMITS } from './client.js';

/**
 * The config as MLflow params: nested objects flattened with dotted keys
 * (`train.epochs`), arrays and other non-strings as JSON text, strings as they
 * are. Values longer than MLflow's limit are cut, and their keys returned.
 */
export function flattenParams(value: Record<string, unknown>, limit = LIMITS.paramValueLength): { params: Record<string, string>; truncated: string[] } {
  const params: Record<string, string> = {};
  const truncated: string[] = [];
  const walk = (node: unknown, prefix: string) => {
    if (node === undefined) return;
    if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [key, inner] of Object.entries(node as Record<string, unknown>)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    let text = typeof node === 'string' ? node : JSON.stringify(node);
    if (text === undefined) return; // functions, symbols
    if (text.length > limit) {
      text = text.slice(0, limit);
      truncated.push(prefix);
    }
    params[prefix.slice(0, LIMITS.keyLength)] = text;
  };
  walk(value, '');
  return { params, truncated };
}

/** MLflow's JSON for a double: protobuf spells non-finite values as strings. */
export function metricValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}
