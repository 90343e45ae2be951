/**
 * Names whose values are never written to disk, logged or sent to a tracker:
 * config keys (`apiKey`, `token`) and URL query parameters (`access_token`,
 * `sig`, `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`).
 */
export const SECRET_KEY_PATTERN = /key|token|password|passwd|secret|credential|signature|^sig$|^auth$|authorization/i;
export const REDACTED = '[redacted]';

/** `scheme://user:password@` in any URL inside a text. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi; // up to the last @ before the host, as URL parsers read it
/** `?name=value` / `&name=value` (and `;`) query parameters inside a text. */
const QUERY_PARAM = /([?&;])([^=&#;\s]+)=([^&#;\s]*)/g;

/**
 * `text` with the secrets of every URL in it replaced: the userinfo
 * (`http://user:pw@host` → `http://[redacted]@host`) and the values of query
 * parameters with secret-looking names (`?token=…` → `?token=[redacted]`).
 * For showing and storing a URL only; a client connects with the original.
 */
export function redactUrl(text: string): string {
  if (!text.includes('@') && !/[?&;]/.test(text)) return text;
  return text
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(QUERY_PARAM, (whole, sep: string, name: string) => (SECRET_KEY_PATTERN.test(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : whole));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A deep copy of `value` as it may be written, logged or sent: values of
 * secret-looking keys replaced, and URL secrets (redactUrl) removed from every
 * string. The one rule every config writer applies (config.json, checkpoint
 * metadata, MLflow params, the W&B config).
 */
export function redactSecrets<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY_PATTERN.test(key) && inner !== null && typeof inner !== 'object' ? REDACTED : redact(inner);
  }
  return out;
}
