/** Key names whose values are never written to disk or sent to a tracker. */
export const SECRET_KEY_PATTERN = /key|token|password|passwd|secret|credential/i;
export const REDACTED = '[redacted]';

/** A deep copy of `value` with the values of secret-looking keys replaced. */
export function redactSecrets<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY_PATTERN.test(key) && inner !== null && typeof inner !== 'object' ? REDACTED : redact(inner);
  }
  return out;
}
